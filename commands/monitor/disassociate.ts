import {Args} from '@oclif/core'

import type {Monitor} from '../../src/domain/types.js'
import {disassociateMonitor} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorDisassociate extends LbaasCommand {
  static summary = 'Remove a health monitor from a pool'
  static examples = ['<%= config.bin %> monitor disassociate 6f1c2a9e-0000-4000-8000-000000000002 web']
  static args = {
    monitor: Args.string({required: true, description: 'monitor name or id'}),
    pool: Args.string({required: true, description: 'pool name or id'}),
  }

  async run(): Promise<Monitor> {
    const {args} = await this.parseCommand(MonitorDisassociate)
    return this.show(await disassociateMonitor(await this.ctx, args.monitor, args.pool))
  }
}
