import {Args} from '@oclif/core'

import type {Monitor} from '../../src/domain/types.js'
import {showMonitor} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorShow extends LbaasCommand {
  static summary = 'Show a health monitor and the pools it serves'
  static examples = ['<%= config.bin %> monitor show 6f1c2a9e-0000-4000-8000-000000000002']
  static args = {monitor: Args.string({required: true, description: 'monitor name or id'})}

  async run(): Promise<Monitor> {
    const {args} = await this.parseCommand(MonitorShow)
    return this.show(showMonitor(await this.ctx, args.monitor))
  }
}
