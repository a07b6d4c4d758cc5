/**
 * Agent use cases on a controller (SPEC §6): `agent list`/`show`, where a new or moving pool
 * goes (`--agent`), and removing a pool from the agent it left. Agents are found through
 * the job servers' admin protocol (workers that announce the lbaas client id) and pinged
 * with DISCOVER. How agents are reached and how their pools are run lives in `src/agent/`.
 */
import {flushPendingUndeploys} from '../agent/executor.js'
import type {AgentDiscovery} from '../agent/protocol.js'
import {AGENT_TIMEOUTS, GearmanAgentTransport, gearmanSettingsFromEnv, isRecord, noAgentTransport, requestAgent, type AgentRegistry, type AgentTransport} from '../agent/transport.js'
import {AgentUnreachableError, NotFoundError, RuntimeFailure, ValidationError} from '../domain/errors.js'
import {isFunctionName} from '../gearman/function-name.js'
import {addPendingUndeploy, getAgentRow, listAgentRows, pendingUndeploys, poolCountsByAgent, saveAgentRow, type AgentRow} from '../store/agents.js'
import type {Store} from '../store/db.js'
import type {AppContext} from './context.js'


export interface AgentSummary {
  name: string
  alive: boolean
  /** Pools this state file places on the agent. */
  pools: number
  version: string | null
  last_seen: string | null
}

export interface AgentDetails extends AgentSummary {
  /** Job servers the agent's function is registered on right now. */
  servers: string[]
  /** What the agent said it hosts (from its last DISCOVER answer). */
  hosted_pools: AgentDiscovery['pools']
  capacity: AgentDiscovery['capacity'] | null
  device: AgentDiscovery['device'] | null
  /** Pools moved away while the agent was unreachable, still to be removed from it. */
  pending_undeploys: string[]
}

export function transportOf(ctx: AppContext): AgentTransport {
  return ctx.agentTransport ?? noAgentTransport
}

/** `--server` given to an agent command replaces LBAAS_GEARMAN_SERVERS for that command. */
async function withServers(ctx: AppContext, servers: readonly string[] | undefined): Promise<AppContext> {
  if (!servers || servers.length === 0) return ctx
  const settings = await gearmanSettingsFromEnv(process.env, servers)
  return {...ctx, agentTransport: new GearmanAgentTransport(settings)}
}

function checkAgentName(name: string): string {
  if (!isFunctionName(name)) {
    throw new ValidationError('agent', `agent ${JSON.stringify(name)} must be 1-255 characters without spaces (a Gearman function name)`)
  }
  return name
}

function discoveryOf(value: unknown): AgentDiscovery | undefined {
  return isRecord(value) && typeof value.version === 'string' && Array.isArray(value.pools) ? (value as unknown as AgentDiscovery) : undefined
}

export interface AgentProbe {
  name: string
  alive: boolean
  discovery?: AgentDiscovery
  servers: string[]
}
type Probe = AgentProbe

/** DISCOVERs each named agent that a job server lists a worker for; the others are not alive. */
export async function pingAgents(transport: AgentTransport, registry: AgentRegistry, names: readonly string[]): Promise<AgentProbe[]> {
  return Promise.all(
    names.map(async (name): Promise<AgentProbe> => {
      const servers = registry.registeredOn.get(name) ?? []
      if (!registry.workers.get(name)) return {name, alive: false, servers}
      try {
        const answer = await requestAgent(transport, name, {lbaas_action: 'DISCOVER'}, AGENT_TIMEOUTS.discover)
        const discovery = discoveryOf(answer.discovery)
        return {name, alive: discovery !== undefined, discovery, servers}
      } catch {
        return {name, alive: false, servers}
      }
    }),
  )
}

/** Remembers each live answer (version, last_seen: what `--dead-after` is measured from). */
export function rememberLiveAgents(store: Store, probes: readonly AgentProbe[], now = new Date()): void {
  store.write(() => {
    for (const probe of probes) {
      if (probe.alive && probe.discovery) {
        saveAgentRow(store.db, {name: probe.name, version: probe.discovery.version, last_seen: now.toISOString(), info: JSON.stringify(probe.discovery)})
      }
    }
  })
}

/**
 * Finds agents (registered with the lbaas client id, or known to this state file) and pings
 * each with DISCOVER. Live answers are remembered (version, last_seen), and pools that moved
 * away from an agent while it was down are removed from it now.
 */
async function probeAgents(ctx: AppContext, only?: string): Promise<Probe[]> {
  const transport = transportOf(ctx)
  const {store} = ctx
  const known = new Set([...store.read(() => listAgentRows(store.db)).map((row) => row.name), ...poolCountsByAgent(store.db).keys()])
  if (transport.servers.length === 0) {
    ctx.notify.warn('no Gearman job servers are configured (set LBAAS_GEARMAN_SERVERS): agents cannot be reached')
    const names = only ? [only] : [...known]
    return names.filter((name) => known.has(name)).map((name) => ({name, alive: false, servers: []}))
  }
  const registry = await transport.registry()
  for (const server of registry.unreachable) ctx.notify.warn(`job server ${server} did not answer`)
  const names = only ? [only] : [...new Set([...registry.agents, ...known])].sort()
  const probes = await pingAgents(transport, registry, names)
  rememberLiveAgents(store, probes)
  for (const probe of probes.filter((candidate) => candidate.alive)) await flushPendingUndeploys(store, transport, probe.name)
  return probes.filter((probe) => probe.alive || known.has(probe.name) || registry.agents.has(probe.name))
}

function summaryOf(ctx: AppContext, probe: Probe, counts: Map<string, number>): AgentSummary {
  const row: AgentRow | undefined = getAgentRow(ctx.store.db, probe.name)
  return {
    name: probe.name,
    alive: probe.alive,
    pools: counts.get(probe.name) ?? 0,
    version: probe.discovery?.version ?? row?.version ?? null,
    last_seen: row?.last_seen ?? null,
  }
}

/** `lbaas agent list`. Without job servers: the agents this state file knows, none alive (and a warning). */
export async function listAgents(given: AppContext, options: {servers?: readonly string[]} = {}): Promise<AgentSummary[]> {
  const ctx = await withServers(given, options.servers)
  const probes = await probeAgents(ctx)
  const counts = poolCountsByAgent(ctx.store.db)
  return probes.map((probe) => summaryOf(ctx, probe, counts))
}

/** `lbaas agent show NAME`: NotFoundError unless the agent is registered now or was seen before. */
export async function showAgent(given: AppContext, name: string, options: {servers?: readonly string[]} = {}): Promise<AgentDetails> {
  checkAgentName(name)
  const ctx = await withServers(given, options.servers)
  const [probe] = await probeAgents(ctx, name)
  if (!probe) throw new NotFoundError('agent', name)
  const row = getAgentRow(ctx.store.db, name)
  const discovery = probe.discovery ?? discoveryOf(row?.info ? JSON.parse(row.info) : undefined)
  return {
    ...summaryOf(ctx, probe, poolCountsByAgent(ctx.store.db)),
    servers: probe.servers,
    hosted_pools: discovery?.pools ?? [],
    capacity: discovery?.capacity ?? null,
    device: discovery?.device ?? null,
    pending_undeploys: ctx.store.read(() => pendingUndeploys(ctx.store.db, name)),
  }
}

/**
 * Where a new or moving pool goes (`--agent`): `local`; `auto`, the live agent hosting the
 * fewest pools of this state file (ties: by name); or a live agent by name. An agent that is
 * known but does not answer is AgentUnreachableError (exit 1); an unknown name is a
 * ValidationError (exit 2).
 */
export async function chooseAgent(ctx: AppContext, value: unknown): Promise<string> {
  if (value === undefined || value === 'local') return 'local'
  if (typeof value !== 'string') throw new ValidationError('agent', 'agent must be local, auto or an agent name')
  if (transportOf(ctx).servers.length === 0) {
    throw new ValidationError(
      'agent',
      `agent ${JSON.stringify(value)} needs Gearman job servers: set LBAAS_GEARMAN_SERVERS (HOST:PORT,...)`,
      'or leave out --agent to run the pool on this host',
    )
  }
  if (value === 'auto') {
    const live = (await probeAgents(ctx)).filter((probe) => probe.alive)
    if (live.length === 0) {
      throw new RuntimeFailure('no_live_agent', 'no live agent to place the pool on', 'start `lbaas serve-worker` on a host, then check `lbaas agent list`')
    }
    const counts = poolCountsByAgent(ctx.store.db)
    live.sort((a, b) => (counts.get(a.name) ?? 0) - (counts.get(b.name) ?? 0) || a.name.localeCompare(b.name))
    return live[0]!.name
  }
  const name = checkAgentName(value)
  const [probe] = await probeAgents(ctx, name)
  if (probe?.alive) return name
  const seen = getAgentRow(ctx.store.db, name) !== undefined || probe !== undefined
  if (seen) throw new AgentUnreachableError(name, 'it does not answer DISCOVER')
  throw new ValidationError('agent', `no agent named ${name}`, 'see `lbaas agent list`, or use --agent auto')
}

/**
 * Removes a pool from the agent (or host) it moved away from. An unreachable agent is told
 * later: the pool is remembered and removed when the agent answers again.
 */
export async function undeployFrom(ctx: AppContext, poolId: string, agent: string): Promise<void> {
  try {
    await ctx.withPoolLock(poolId, () => ctx.executorFor({id: poolId, agent}).undeploy(poolId))
  } catch (error) {
    if (!(error instanceof AgentUnreachableError) || agent === 'local') throw error
    ctx.store.write(() => addPendingUndeploy(ctx.store.db, agent, poolId))
    ctx.notify.warn(`${error.message}; the pool will be removed from ${agent} when it answers again (\`lbaas agent list\`)`)
  }
}
