import {Args, Flags} from '@oclif/core'

import type {Monitor} from '../../src/domain/types.js'
import {deleteMonitor} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorDelete extends LbaasCommand {
  static summary = 'Delete a health monitor (refused while it is associated)'
  static examples = ['<%= config.bin %> monitor delete 6f1c2a9e-0000-4000-8000-000000000002 --yes']
  static args = {monitor: Args.string({required: true, description: 'monitor name or id'})}
  static flags = {yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'})}

  async run(): Promise<Monitor> {
    const {args, flags} = await this.parseCommand(MonitorDelete)
    await this.confirmDestructive(`Delete monitor ${args.monitor}?`, flags.yes)
    return this.showDeleted('monitor', await deleteMonitor(await this.ctx, args.monitor))
  }
}
