import {Flags} from '@oclif/core'

import {LB_METHODS, PROTOCOLS, type Pool} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createPool} from '../../src/service/pools.js'
import {subnetChoices} from '../../src/ui/choices.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'
import {descriptionQuestion} from '../../src/ui/questions.js'

export default class PoolCreate extends LbaasCommand {
  static summary = 'Create a pool: the backend members a VIP balances over'
  static description =
    'A pool is state only until it has a VIP (lbaas vip create), as in Neutron LBaaS. ' +
    'Run with no flags on a terminal to be asked for each value (existing objects offered from a list); the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> pool create --name web --subnet lab --protocol HTTP --lb-method ROUND_ROBIN',
    '<%= config.bin %> pool create --name db --subnet lab --protocol TCP --lb-method LEAST_CONNECTIONS --description "primary"',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> pool create'},
  ]
  static flags = {
    name: Flags.string({description: 'pool name'}),
    subnet: Flags.string({description: "the members' subnet (name or id)"}),
    protocol: Flags.string({description: 'HTTP, HTTPS (TLS pass-through) or TCP'}),
    'lb-method': Flags.string({description: 'ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP'}),
    description: Flags.string({description: 'free text'}),
    'admin-state-down': Flags.boolean({description: 'create the pool administratively down'}),
    agent: Flags.string({description: 'where the pool runs: local (default), auto (the live agent with the fewest pools) or an agent name (lbaas agent list)'}),
  }

  async run(): Promise<Pool> {
    const {flags} = await this.parseCommand(PoolCreate)
    const ctx = await this.ctx
    const guide = this.guide(flags)
    const name = await guide.required('name', flags.name, {kind: 'input', message: 'Pool name', validate: rules.displayName})
    const description = await guide.optional(flags.description, descriptionQuestion)
    const subnet = await guide.required('subnet', flags.subnet, () => ({
      kind: 'pick',
      message: 'Subnet of the members',
      choices: subnetChoices(ctx),
      other: 'another subnet…',
    }))
    const protocol = await guide.required('protocol', flags.protocol, {kind: 'select', message: 'Protocol', choices: PROTOCOLS, default: 'HTTP'})
    const lbMethod = await guide.required('lb-method', flags['lb-method'], {
      kind: 'select',
      message: 'Load-balancing method',
      choices: LB_METHODS,
      default: 'ROUND_ROBIN',
    })
    const pool = await createPool(ctx, {
      name,
      description,
      subnet,
      protocol,
      lb_method: lbMethod,
      admin_state_up: !flags['admin-state-down'],
      agent: flags.agent,
    })
    await this.show(pool)
    await this.printEquivalent(guide, [], {
      name,
      description,
      subnet,
      protocol,
      'lb-method': lbMethod,
      'admin-state-down': flags['admin-state-down'],
      agent: flags.agent,
    })
    return pool
  }
}
