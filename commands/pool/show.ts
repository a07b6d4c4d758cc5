import {Args} from '@oclif/core'

import type {Pool} from '../../src/domain/types.js'
import {showPoolLive} from '../../src/service/pools.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class PoolShow extends LbaasCommand {
  static summary = 'Show a pool'
  static description =
    'When several monitors are associated, the first admin-up one (by association time) drives HAProxy; ' +
    '`lbaas status POOL` marks it. An HA pool (SPEC §11) also shows its peers, which one is MASTER, and DEGRADED when a peer is lost.'
  static examples = ['<%= config.bin %> pool show web', '<%= config.bin %> pool show web -f value -c status']
  static args = {pool: Args.string({required: true, description: 'pool name or id'})}

  async run(): Promise<Pool> {
    const {args} = await this.parseCommand(PoolShow)
    return this.show(await showPoolLive(await this.ctx, args.pool))
  }
}
