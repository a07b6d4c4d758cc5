import {Flags} from '@oclif/core'

import type {AgentSummary} from '../../src/service/agents.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'
import {AGENT_COLUMNS} from '../../src/ui/listings.js'

export default class AgentList extends LbaasCommand {
  static summary = 'List the agents (hosts running lbaas serve-worker) and ping each'
  static description =
    'Finds agents through the job servers (LBAAS_GEARMAN_SERVERS) and pings each with DISCOVER. pools counts the pools ' +
    'this state file places on the agent; last_seen is when it last answered. Agents that pools are placed on are listed ' +
    'even when they do not answer. Without job servers the list holds only those, none alive.'
  static examples = [
    '<%= config.bin %> agent list',
    'LBAAS_GEARMAN_SERVERS=gm1:4730,gm2:4730 <%= config.bin %> agent list --json',
    '<%= config.bin %> agent list -f value -c name',
  ]
  static flags = {
    server: Flags.string({multiple: true, description: 'job server HOST:PORT (repeatable; default: LBAAS_GEARMAN_SERVERS)'}),
  }

  async run(): Promise<readonly AgentSummary[]> {
    const {flags} = await this.parseCommand(AgentList)
    const {listAgents} = await import('../../src/service/agents.js')
    return this.showList(await listAgents(await this.ctx, {servers: flags.server}), AGENT_COLUMNS)
  }
}
