import {AgentUnreachableError} from '../../src/domain/errors.js'
import type {NativeRequest} from '../../src/agent/protocol.js'
import type {AgentRegistry, AgentTransport} from '../../src/agent/transport.js'
import {planAgentSync} from '../../src/service/sync-agents.js'

/** Agents behind a make-believe job server, for the controller's unit tests. */
export type Handler = (message: NativeRequest) => unknown

export interface FakeAgent {
  alive: boolean
  /** Client id lbaas-agent: found by `agent list` without being known. */
  announced: boolean
  handler?: Handler
  received: NativeRequest[]
  counters: {bytes_in: number; bytes_out: number; total_connections: number; active_connections: number}
  hosted: Set<string>
}

/** Agents behind a make-believe job server: what GearmanAgentTransport would see. */
export class FakeNetwork implements AgentTransport {
  readonly servers = ['127.0.0.1:4730']
  readonly agents = new Map<string, FakeAgent>()

  add(name: string, options: Partial<FakeAgent> = {}): FakeAgent {
    const agent: FakeAgent = {
      alive: true,
      announced: true,
      received: [],
      counters: {bytes_in: 0, bytes_out: 0, total_connections: 0, active_connections: 0},
      hosted: new Set(),
      ...options,
    }
    this.agents.set(name, agent)
    return agent
  }

  async registry(): Promise<AgentRegistry> {
    const registry: AgentRegistry = {workers: new Map(), registeredOn: new Map(), agents: new Set(), unreachable: []}
    for (const [name, agent] of this.agents) {
      if (!agent.alive) continue
      registry.workers.set(name, 1)
      registry.registeredOn.set(name, this.servers.slice())
      if (agent.announced) registry.agents.add(name)
    }
    return registry
  }

  async send(name: string, message: NativeRequest): Promise<unknown> {
    const agent = this.agents.get(name)
    if (!agent?.alive) throw new AgentUnreachableError(name, `no worker serves function ${name} on 127.0.0.1:4730`)
    agent.received.push(message)
    if (agent.handler) return agent.handler(message)
    return respond(agent, message)
  }
}

export function respond(agent: FakeAgent, message: NativeRequest): unknown {
  switch (message.lbaas_action) {
    case 'DEPLOY':
    case 'RUNTIME': {
      const fresh = !agent.hosted.has(message.graph.pool.id)
      const serving = message.graph.vip !== null && message.graph.vip.status !== 'PENDING_DELETE'
      if (serving) agent.hosted.add(message.graph.pool.id)
      else agent.hosted.delete(message.graph.pool.id)
      return {
        lbaas_response: 'PASS',
        lbaas_action: message.lbaas_action,
        outcome: {state: serving ? 'serving' : 'absent', reloaded: true, description: null, warnings: []},
        counters_restarted: fresh && serving,
        config_hash: serving ? 'h' : null,
      }
    }
    case 'UNDEPLOY':
      agent.hosted.delete(message.pool_id)
      return {lbaas_response: 'PASS', lbaas_action: 'UNDEPLOY'}
    case 'STATS':
      return {
        lbaas_response: 'PASS',
        lbaas_action: 'STATS',
        stats: {running: agent.hosted.has(message.pool_id), counters: agent.counters, members: []},
      }
    case 'DISCOVER':
      return {
        lbaas_response: 'PASS',
        lbaas_action: 'DISCOVER',
        discovery: {
          version: '0.9.0',
          protocol: 1,
          function: 'x',
          pools: [...agent.hosted].map((id) => ({id, running: true, config_hash: 'h'})),
          capacity: {concurrency: 4, running_jobs: 0, max_connections: 8000},
          device: {mode: 'host', state: 'NONE', address: null},
        },
      }
  }
}

/** `lbaas sync` on a controller, in process: plans, applies every action, and collects the failures. */
export async function runAgentSync(...[ctx, options = {}]: Parameters<typeof planAgentSync>) {
  const actions = await planAgentSync(ctx, options)
  const failures: string[] = []
  for (const action of actions) {
    try {
      await action.apply?.()
    } catch (error) {
      failures.push(`${action.target}: ${(error as Error).message}`)
    }
  }
  return {actions: actions.map(({kind, target, reason}) => ({kind, target, reason})), failures}
}
