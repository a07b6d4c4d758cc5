import {Args} from '@oclif/core'

import {labStartBackend, type LabBackend} from '../../src/service/lab.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class LabStart extends LbaasCommand {
  static summary = 'Start a stopped lab backend host again'
  static examples = ['<%= config.bin %> lab start lab-2']
  static args = {backend: Args.string({required: true, description: 'lab backend name, e.g. lab-2 (see lbaas lab status)'})}

  async run(): Promise<LabBackend> {
    const {args} = await this.parseCommand(LabStart)
    return this.show(await labStartBackend(await this.ctx, args.backend))
  }
}
