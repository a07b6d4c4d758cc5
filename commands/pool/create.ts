import {Flags} from '@oclif/core'

import type {Pool} from '../../src/domain/types.js'
import {createPool} from '../../src/service/pools.js'
import {poolForm} from '../../src/ui/forms.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

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
    ha: Flags.string({description: 'high availability: active-standby (needs --agents A,B; SPEC §11)', options: ['active-standby']}),
    agents: Flags.string({description: 'the two agents of an --ha pool, comma separated: A,B'}),
  }

  async run(): Promise<Pool> {
    const {flags} = await this.parseCommand(PoolCreate)
    const ctx = await this.ctx
    const guide = this.guide(flags)
    const form = await poolForm(guide, ctx, flags)
    const pool = await this.show(await createPool(ctx, {...form.input, ha: flags.ha, agents: flags.agents}))
    await this.printEquivalent(guide, form.positionals, {...form.flags, ha: flags.ha, agents: flags.agents})
    return pool
  }
}
