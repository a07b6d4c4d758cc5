import {doctor, type DoctorReport} from '../src/service/doctor.js'
import {defaultRunDir, defaultStatePath} from '../src/service/context.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'
import {resolve} from 'node:path'

export default class Doctor extends LbaasCommand {
  static summary = 'Check prerequisites and host limits, and print what to fix'
  static description =
    'Checks privileges, network namespaces, veth and bridge creation (a scratch namespace, removed at once), HAProxy, ' +
    'arping, gearman, the file-descriptor limit and the largest safe VIP connection_limit it allows, and the ' +
    'permissions of the state file and run dir. Exits 1 when something must be fixed.'
  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']

  async run(): Promise<DoctorReport> {
    const {flags} = await this.parseCommand(Doctor)
    const statePath = resolve(flags.state ?? defaultStatePath())
    const report = await doctor({statePath, runDir: resolve(flags['run-dir'] ?? defaultRunDir(statePath))})
    if (this.output.format === 'table') {
      await this.showList(report.checks, ['name', 'status', 'detail', 'fix'])
      process.stdout.write(`largest safe connection_limit: ${report.max_connection_limit}\n`)
    } else await this.show(report)
    if (!report.ok) this.exitFailed()
    return report
  }
}
