import {Args} from '@oclif/core'

import {labStopBackend, type LabBackend} from '../../src/service/lab.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class LabStop extends LbaasCommand {
  static summary = 'Stop a lab backend host, as if it went down'
  static examples = ['<%= config.bin %> lab stop lab-2']
  static args = {backend: Args.string({required: true, description: 'lab backend name, e.g. lab-2 (see lbaas lab status)'})}

  async run(): Promise<LabBackend> {
    const {args} = await this.parseCommand(LabStop)
    return this.show(await labStopBackend(await this.ctx, args.backend))
  }
}
