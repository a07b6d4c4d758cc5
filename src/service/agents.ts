/**
 * The controller side of SPEC §6. With Gearman job servers configured (LBAAS_GEARMAN_SERVERS),
 * a pool placed on an agent is deployed by sending native jobs to the agent's function:
 * `AgentExecutor` is the PoolExecutor for such pools, so every pool command works the same
 * whether its pool is local or on an agent. Agents are found through the job servers' admin
 * protocol (workers that announce the lbaas client id) and pinged with DISCOVER.
 *
 * Light to import: the Gearman modules load only when a job is sent.
 */
import {AgentUnreachableError, LbaasError, NotFoundError, RuntimeFailure, ValidationError} from '../domain/errors.js'
import type {PoolGraph, Subnet} from '../domain/types.js'
import type {ServerAddress, TlsFiles} from '../gearman/connection.js'
import {
  addPendingUndeploy,
  getAgentRow,
  listAgentRows,
  pendingUndeploys,
  poolCountsByAgent,
  removePendingUndeploy,
  saveAgentRow,
  type AgentRow,
} from '../store/agents.js'
import type {Store} from '../store/db.js'
import {
  AGENT_CLIENT_ID,
  errorFromWire,
  LBAAS_PROTOCOL_VERSION,
  type AgentDiscovery,
  type AgentStats,
  type NativeRequest,
  type NativeResponse,
} from './agent-protocol.js'
import type {AppContext} from './context.js'
import type {DeployOutcome, ExecutorHooks, LiveStats, PoolExecutor} from './executor.js'

export const AGENT_TIMEOUTS = {deploy: 60_000, stats: 10_000, discover: 3_000} as const
const ADMIN_TIMEOUT_MS = 2_000

type RequestBody = NativeRequest extends infer R ? (R extends NativeRequest ? Omit<R, 'lbaas_version' | 'expires_at'> : never) : never

/** Which functions the job servers know, and which of them belong to lbaas agents. */
export interface AgentRegistry {
  /** Function name → workers registered for it, summed over the job servers. */
  workers: Map<string, number>
  /** Function name → job servers it is registered on. */
  registeredOn: Map<string, string[]>
  /** Functions of connections that sent the lbaas agent client id. */
  agents: Set<string>
  /** Job servers that did not answer the admin protocol. */
  unreachable: string[]
}

/**
 * How the controller reaches agents. `send` throws AgentUnreachableError when the job could
 * not be delivered or answered; it never leaves a connection open.
 */
export interface AgentTransport {
  /** The job servers as configured; empty: this CLI is not a controller. */
  readonly servers: readonly string[]
  registry(): Promise<AgentRegistry>
  send(agent: string, message: NativeRequest, timeoutMs: number): Promise<unknown>
}

export interface GearmanSettings {
  servers: ServerAddress[]
  tls?: TlsFiles
}

/** LBAAS_GEARMAN_SERVERS (comma or space separated HOST:PORT) and LBAAS_GEARMAN_TLS_CA/CERT/KEY. */
export async function gearmanSettingsFromEnv(env: NodeJS.ProcessEnv, servers?: readonly string[]): Promise<GearmanSettings> {
  const {loadTlsMaterial, parseServerAddress} = await import('../gearman/connection.js')
  const texts = servers && servers.length > 0 ? servers.flatMap((entry) => entry.split(',')) : (env.LBAAS_GEARMAN_SERVERS ?? '').split(/[\s,]+/)
  const given = {ca: env.LBAAS_GEARMAN_TLS_CA, cert: env.LBAAS_GEARMAN_TLS_CERT, key: env.LBAAS_GEARMAN_TLS_KEY}
  const tls = given.ca || given.cert || given.key ? given : undefined
  // Part of the TLS settings is a usage error here, before anything goes out in plaintext.
  loadTlsMaterial(tls)
  return {servers: texts.map((text) => text.trim()).filter(Boolean).map((text) => parseServerAddress(text)), tls}
}

export class GearmanAgentTransport implements AgentTransport {
  readonly servers: readonly string[]

  constructor(private readonly settings: GearmanSettings) {
    this.servers = settings.servers.map((server) => (server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`))
  }

  async registry(): Promise<AgentRegistry> {
    const {adminStatus, adminWorkers} = await import('../gearman/admin.js')
    const registry: AgentRegistry = {workers: new Map(), registeredOn: new Map(), agents: new Set(), unreachable: []}
    await Promise.all(
      this.settings.servers.map(async (server, index) => {
        const label = this.servers[index]!
        try {
          const options = {timeoutMs: ADMIN_TIMEOUT_MS, tls: this.settings.tls}
          const [status, workers] = await Promise.all([adminStatus(server, options), adminWorkers(server, options)])
          for (const entry of status) {
            if (entry.availableWorkers === 0) continue
            registry.workers.set(entry.function, (registry.workers.get(entry.function) ?? 0) + entry.availableWorkers)
            registry.registeredOn.set(entry.function, [...(registry.registeredOn.get(entry.function) ?? []), label])
          }
          for (const connection of workers) {
            if (connection.clientId === AGENT_CLIENT_ID) for (const name of connection.functions) registry.agents.add(name)
          }
        } catch {
          registry.unreachable.push(label)
        }
      }),
    )
    return registry
  }

  async send(agent: string, message: NativeRequest, timeoutMs: number): Promise<unknown> {
    if (this.settings.servers.length === 0) {
      throw new AgentUnreachableError(agent, 'no Gearman job servers are configured (set LBAAS_GEARMAN_SERVERS)')
    }
    // A job for a function nobody serves would wait in gearmand and run whenever the agent
    // comes back, long after this command gave up: do not queue it.
    const registry = await this.registry()
    if (!registry.workers.get(agent)) {
      const reachable = this.servers.filter((server) => !registry.unreachable.includes(server))
      const detail =
        reachable.length === 0
          ? `no job server answered (${this.servers.join(', ')})`
          : `no worker serves function ${agent} on ${reachable.join(', ')}`
      throw new AgentUnreachableError(agent, detail)
    }
    const {GearmanClient} = await import('../gearman/client.js')
    const client = new GearmanClient({servers: this.settings.servers, tls: this.settings.tls, connectTimeoutMs: ADMIN_TIMEOUT_MS})
    try {
      const answer = await client.submitJob(agent, JSON.stringify(message), {timeoutMs})
      try {
        return JSON.parse(answer.toString('utf8')) as unknown
      } catch {
        throw new RuntimeFailure('agent_protocol', `agent ${agent} answered something that is not JSON`)
      }
    } catch (error) {
      if (error instanceof LbaasError && (error.code === 'gearman_timeout' || error.code === 'gearman_unavailable')) {
        throw new AgentUnreachableError(agent, error.message)
      }
      throw error
    } finally {
      await client.close()
    }
  }
}

/** A transport for a CLI without job servers: every send fails with a clear reason. */
export const noAgentTransport: AgentTransport = {
  servers: [],
  async registry() {
    return {workers: new Map(), registeredOn: new Map(), agents: new Set(), unreachable: []}
  },
  async send(agent) {
    throw new AgentUnreachableError(agent, 'no Gearman job servers are configured (set LBAAS_GEARMAN_SERVERS)')
  },
}

/** Builds the transport on first use, from the environment. */
export function lazyGearmanTransport(env: NodeJS.ProcessEnv = process.env): AgentTransport {
  let transport: Promise<AgentTransport> | undefined
  const load = () =>
    (transport ??= gearmanSettingsFromEnv(env).then((settings) =>
      settings.servers.length === 0 ? noAgentTransport : new GearmanAgentTransport(settings),
    ))
  const configured = (env.LBAAS_GEARMAN_SERVERS ?? '').split(/[\s,]+/).filter(Boolean)
  return {
    servers: configured,
    registry: async () => (await load()).registry(),
    send: async (agent, message, timeoutMs) => (await load()).send(agent, message, timeoutMs),
  }
}

// ---- the executor ------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Sends one native request and returns the PASS answer; FAIL becomes the agent's typed error. */
export async function requestAgent(
  transport: AgentTransport,
  agent: string,
  body: RequestBody,
  timeoutMs: number,
): Promise<Extract<NativeResponse, {lbaas_response: 'PASS'}>> {
  const message = {...body, lbaas_version: LBAAS_PROTOCOL_VERSION, expires_at: new Date(Date.now() + timeoutMs).toISOString()} as NativeRequest
  const answer = await transport.send(agent, message, timeoutMs)
  if (!isRecord(answer) || (answer.lbaas_response !== 'PASS' && answer.lbaas_response !== 'FAIL')) {
    throw new RuntimeFailure('agent_protocol', `${agent} answered, but not as an lbaas agent (is it running \`lbaas serve-worker\`?)`)
  }
  if (answer.lbaas_response === 'FAIL') throw errorFromWire(agent, answer.error as never)
  return answer as Extract<NativeResponse, {lbaas_response: 'PASS'}>
}

/**
 * `reloaded` as apply.ts reads it: the counters this executor reports restarted from zero.
 * An agent keeps its counters cumulative across its own reloads, so that happens only when
 * the pool is new on the agent (created there, or moved there).
 */
function outcomeOf(agent: string, value: unknown, countersRestarted: unknown): DeployOutcome {
  const states = ['serving', 'stopped', 'absent']
  if (!isRecord(value) || !states.includes(value.state as string) || typeof value.reloaded !== 'boolean') {
    throw new RuntimeFailure('agent_protocol', `agent ${agent} answered DEPLOY without an outcome`)
  }
  const warnings = Array.isArray(value.warnings) ? value.warnings.filter((warning): warning is string => typeof warning === 'string') : []
  return {
    state: value.state as DeployOutcome['state'],
    reloaded: countersRestarted === true,
    description: typeof value.description === 'string' ? value.description : null,
    warnings: warnings.map((warning) => `agent ${agent}: ${warning}`),
  }
}

/**
 * The PoolExecutor of a pool placed on an agent. Before its first request it tells the
 * agent to remove pools that moved away while it was unreachable.
 *
 * Contract (as PoolExecutor): throws AgentUnreachableError (exit 1) when the agent does not
 * answer, the agent's own typed error when it answers FAIL (ConfigRejectedError: exit 3).
 * Counters come back cumulative (the agent keeps them across its reloads), so no
 * `countersBeforeReload` snapshot is needed here.
 */
export class AgentExecutor implements PoolExecutor {
  private flushed = false

  constructor(
    readonly name: string,
    private readonly transport: AgentTransport,
    private readonly store?: Store,
  ) {}

  private async request(body: RequestBody, timeoutMs: number) {
    if (!this.flushed && this.store) {
      this.flushed = true
      await flushPendingUndeploys(this.store, this.transport, this.name)
    }
    return requestAgent(this.transport, this.name, body, timeoutMs)
  }

  async deploy(graph: PoolGraph, _hooks: ExecutorHooks): Promise<DeployOutcome> {
    const answer = await this.request({lbaas_action: 'DEPLOY', graph}, AGENT_TIMEOUTS.deploy)
    return outcomeOf(this.name, answer.outcome, answer.counters_restarted)
  }

  async applyRuntime(graph: PoolGraph, memberIds: readonly string[], _hooks: ExecutorHooks): Promise<DeployOutcome> {
    const answer = await this.request({lbaas_action: 'RUNTIME', graph, member_ids: [...memberIds]}, AGENT_TIMEOUTS.deploy)
    return outcomeOf(this.name, answer.outcome, answer.counters_restarted)
  }

  async undeploy(poolId: string): Promise<void> {
    await this.request({lbaas_action: 'UNDEPLOY', pool_id: poolId}, AGENT_TIMEOUTS.deploy)
  }

  async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    const answer = await this.request({lbaas_action: 'STATS', pool_id: graph.pool.id}, AGENT_TIMEOUTS.stats)
    const stats = answer.stats as AgentStats | undefined
    if (!isRecord(stats) || !isRecord(stats.counters) || !Array.isArray(stats.members)) {
      throw new RuntimeFailure('agent_protocol', `agent ${this.name} answered STATS without stats`)
    }
    return stats.running ? {counters: stats.counters, members: stats.members} : null
  }

  /** Agents make a subnet's bridge when a DEPLOY needs it. */
  async ensureSubnet(_subnet: Subnet): Promise<void> {}

  async removeSubnet(_subnet: Subnet): Promise<void> {}
}

/** Sends the UNDEPLOYs an agent missed while unreachable; keeps the ones it still does not take. */
export async function flushPendingUndeploys(store: Store, transport: AgentTransport, agent: string): Promise<string[]> {
  const done: string[] = []
  for (const poolId of store.read(() => pendingUndeploys(store.db, agent))) {
    try {
      await requestAgent(transport, agent, {lbaas_action: 'UNDEPLOY', pool_id: poolId}, AGENT_TIMEOUTS.deploy)
    } catch {
      break
    }
    store.write(() => removePendingUndeploy(store.db, agent, poolId))
    done.push(poolId)
  }
  return done
}

// ---- discovery and placement ---------------------------------------------------------

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

function transportOf(ctx: AppContext): AgentTransport {
  return ctx.agentTransport ?? noAgentTransport
}

/** `--server` given to an agent command replaces LBAAS_GEARMAN_SERVERS for that command. */
async function withServers(ctx: AppContext, servers: readonly string[] | undefined): Promise<AppContext> {
  if (!servers || servers.length === 0) return ctx
  const settings = await gearmanSettingsFromEnv(process.env, servers)
  return {...ctx, agentTransport: new GearmanAgentTransport(settings)}
}

function checkAgentName(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || /[\s\0]/.test(name)) {
    throw new ValidationError('agent', `agent ${JSON.stringify(name)} must be 1-255 characters without spaces (a Gearman function name)`)
  }
  return name
}

function discoveryOf(value: unknown): AgentDiscovery | undefined {
  return isRecord(value) && typeof value.version === 'string' && Array.isArray(value.pools) ? (value as unknown as AgentDiscovery) : undefined
}

interface Probe {
  name: string
  alive: boolean
  discovery?: AgentDiscovery
  servers: string[]
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
  const probes = await Promise.all(
    names.map(async (name): Promise<Probe> => {
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
  const now = new Date().toISOString()
  store.write(() => {
    for (const probe of probes) {
      if (probe.alive && probe.discovery) {
        saveAgentRow(store.db, {name: probe.name, version: probe.discovery.version, last_seen: now, info: JSON.stringify(probe.discovery)})
      }
    }
  })
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
