import {Flags} from '@oclif/core'

import {sync, type SyncResult} from '../src/service/sync.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class Sync extends LbaasCommand {
  static summary = 'Make this host match the state file (after a reboot, a crash, or manual meddling)'
  static description =
    'Re-creates missing bridges, namespaces, VIP plugs and HAProxy processes, reloads pools whose running ' +
    'configuration differs, settles stale PENDING_* statuses, restarts lab backends, and removes this ' +
    "tool's orphans (namespaces, links, processes and run files of no pool). A second run changes nothing."
  static examples = ['<%= config.bin %> sync', '<%= config.bin %> sync --dry-run']
  static flags = {'dry-run': Flags.boolean({description: 'print the plan, change nothing'})}

  async run(): Promise<SyncResult> {
    const {flags} = await this.parseCommand(Sync)
    const result = await sync(await this.ctx, {dryRun: flags['dry-run']})
    if (this.output.format === 'table' && result.actions.length === 0) {
      process.stdout.write(`nothing to do: the host matches the state file\n`)
      return result
    }
    if (this.output.format === 'table' || this.output.format === 'value' || this.output.format === 'csv') {
      await this.showList(result.actions, ['kind', 'target', 'reason'])
    } else await this.show(result)
    return result
  }
}
