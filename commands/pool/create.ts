import {Flags} from '@oclif/core'

import {LB_METHODS, PROTOCOLS, type Pool} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createPool} from '../../src/service/pools.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class PoolCreate extends LbaasCommand {
  static summary = 'Create a pool: the backend members a VIP balances over'
  static description = 'A pool is state only until it has a VIP (lbaas vip create), as in Neutron LBaaS.'
  static examples = [
    '<%= config.bin %> pool create --name web --subnet lab --protocol HTTP --lb-method ROUND_ROBIN',
    '<%= config.bin %> pool create --name db --subnet lab --protocol TCP --lb-method LEAST_CONNECTIONS --description "primary"',
  ]
  static flags = {
    name: Flags.string({description: 'pool name'}),
    subnet: Flags.string({description: "the members' subnet (name or id)"}),
    protocol: Flags.string({description: 'HTTP, HTTPS (TLS pass-through) or TCP'}),
    'lb-method': Flags.string({description: 'ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP'}),
    description: Flags.string({description: 'free text'}),
    'admin-state-down': Flags.boolean({description: 'create the pool administratively down'}),
    agent: Flags.string({description: 'where the pool runs: local (default)'}),
  }

  async run(): Promise<Pool> {
    const {flags} = await this.parseCommand(PoolCreate)
    const input = await this.ask(flags, {
      name: {kind: 'input', message: 'Pool name', validate: rules.displayName},
      subnet: {kind: 'input', message: 'Subnet of the members'},
      protocol: {kind: 'select', message: 'Protocol', choices: PROTOCOLS, default: 'HTTP'},
      'lb-method': {kind: 'select', message: 'Load-balancing method', choices: LB_METHODS, default: 'ROUND_ROBIN'},
    })
    const pool = await createPool(await this.ctx, {
      name: input.name,
      description: input.description,
      subnet: input.subnet,
      protocol: input.protocol,
      lb_method: input['lb-method'],
      admin_state_up: !input['admin-state-down'],
      agent: input.agent,
    })
    return this.show(pool)
  }
}
