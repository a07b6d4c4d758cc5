import {Args} from '@oclif/core'

import type {PoolStats} from '../../src/domain/types.js'
import {poolStats} from '../../src/service/pools.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class PoolStatsCommand extends LbaasCommand {
  static summary = "Show a pool's traffic counters and member health"
  static description = 'Counters are cumulative across HAProxy reloads and restarts and never go backwards.'
  static examples = ['<%= config.bin %> pool stats web', '<%= config.bin %> pool stats web --json']
  static args = {pool: Args.string({required: true, description: 'pool name or id'})}

  async run(): Promise<PoolStats> {
    const {args} = await this.parseCommand(PoolStatsCommand)
    return this.show(await poolStats(await this.ctx, args.pool))
  }
}
