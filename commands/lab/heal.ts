import {Args} from '@oclif/core'

import {labSetHealth, type LabBackend} from '../../src/service/lab.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class LabHeal extends LbaasCommand {
  static summary = 'Make a lab backend pass its health check again'
  static examples = ['<%= config.bin %> lab heal lab-2']
  static args = {backend: Args.string({required: true, description: 'lab backend name, e.g. lab-2 (see lbaas lab status)'})}

  async run(): Promise<LabBackend> {
    const {args} = await this.parseCommand(LabHeal)
    return this.show(labSetHealth(await this.ctx, args.backend, true))
  }
}
