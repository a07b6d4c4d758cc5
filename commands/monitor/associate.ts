import {Args} from '@oclif/core'

import type {Monitor} from '../../src/domain/types.js'
import {associateMonitor} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorAssociate extends LbaasCommand {
  static summary = 'Associate a health monitor with a pool'
  static description =
    'A pool may hold several monitors; the first admin-up one, by association time, drives HAProxy (lbaas pool show says which). ' +
    'A deployed pool is reloaded without dropping a connection.'
  static examples = ['<%= config.bin %> monitor associate 6f1c2a9e-0000-4000-8000-000000000002 web']
  static args = {
    monitor: Args.string({required: true, description: 'monitor name or id'}),
    pool: Args.string({required: true, description: 'pool name or id'}),
  }

  async run(): Promise<Monitor> {
    const {args} = await this.parseCommand(MonitorAssociate)
    return this.show(await associateMonitor(await this.ctx, args.monitor, args.pool))
  }
}
