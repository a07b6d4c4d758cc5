import {Args, Flags} from '@oclif/core'

import type {AgentDetails} from '../../src/service/agents.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class AgentShow extends LbaasCommand {
  static summary = 'Show one agent: liveness, the pools it hosts, its capacity and its Libra device'
  static examples = ['<%= config.bin %> agent show lb-01', '<%= config.bin %> agent show lb-01 --json']
  static args = {agent: Args.string({required: true, description: 'agent name (its Gearman function)'})}
  static flags = {
    server: Flags.string({multiple: true, description: 'job server HOST:PORT (repeatable; default: LBAAS_GEARMAN_SERVERS)'}),
  }

  async run(): Promise<AgentDetails> {
    const {args, flags} = await this.parseCommand(AgentShow)
    const {showAgent} = await import('../../src/service/agents.js')
    return this.show(await showAgent(await this.ctx, args.agent, {servers: flags.server}))
  }
}
