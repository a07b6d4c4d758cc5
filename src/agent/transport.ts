/**
 * How a controller reaches its agents (SPEC §6): the Gearman job servers' admin protocol
 * tells which functions are served and which belong to lbaas agents; a native request is
 * one Gearman job whose answer is the agent's JSON. Light to import: the Gearman modules
 * load only when a job is sent.
 */
import {AgentUnreachableError, LbaasError, RuntimeFailure} from '../domain/errors.js'
import type {GearmanSettings} from '../gearman/settings.js'
import {AGENT_CLIENT_ID, errorFromWire, LBAAS_PROTOCOL_VERSION, type NativeRequest, type NativeResponse} from './protocol.js'

export type {GearmanSettings} from '../gearman/settings.js'

export const AGENT_TIMEOUTS = {deploy: 60_000, stats: 10_000, discover: 3_000} as const
const ADMIN_TIMEOUT_MS = 2_000

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

/** The job servers of a controller: LBAAS_GEARMAN_* (or `--server` values given to an agent command). */
export async function gearmanSettingsFromEnv(env: NodeJS.ProcessEnv, servers?: readonly string[]): Promise<GearmanSettings> {
  const {gearmanSettings} = await import('../gearman/settings.js')
  return gearmanSettings({servers, env})
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Sends one native request and returns the PASS answer; FAIL becomes the agent's typed error. */
export type RequestBody = NativeRequest extends infer R ? (R extends NativeRequest ? Omit<R, 'lbaas_version' | 'expires_at'> : never) : never

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

