import {Args, Flags} from '@oclif/core'

import type {Pool} from '../../src/domain/types.js'
import {updatePool} from '../../src/service/pools.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class PoolUpdate extends LbaasCommand {
  static summary = 'Update a pool'
  static examples = [
    '<%= config.bin %> pool update web --lb-method LEAST_CONNECTIONS',
    '<%= config.bin %> pool update web --admin-state-up false',
    '<%= config.bin %> pool update web --agent lb-02',
    '<%= config.bin %> pool update web --ha active-standby --agents lb-01,lb-02',
    '<%= config.bin %> pool update web --ha none --agent lb-01',
  ]
  static args = {pool: Args.string({required: true, description: 'pool name or id'})}
  static flags = {
    name: Flags.string({description: 'new name'}),
    description: Flags.string({description: 'new description'}),
    'lb-method': Flags.string({description: 'ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP'}),
    'admin-state-up': Flags.string({description: 'true or false (false: HAProxy answers 503)'}),
    agent: Flags.string({description: 'move the pool: local, auto or an agent name (deploys there, then removes it from where it ran); with --ha none: the one agent that keeps it (default: the agent of peer a)'}),
    ha: Flags.string({description: 'active-standby (with --agents A,B: the pool runs on both, SPEC §11) or none (back to one agent)'}),
    agents: Flags.string({description: 'with --ha active-standby: the two agents of the peers, A,B'}),
  }

  async run(): Promise<Pool> {
    const {args, flags} = await this.parseCommand(PoolUpdate)
    const pool = await updatePool(await this.ctx, args.pool, {
      name: flags.name,
      description: flags.description,
      lb_method: flags['lb-method'],
      admin_state_up: flags['admin-state-up'],
      agent: flags.agent,
      ha: flags.ha,
      agents: flags.agents,
    })
    return this.show(pool)
  }
}
