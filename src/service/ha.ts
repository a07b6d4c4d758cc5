/**
 * Active/standby pools on the controller (SPEC §11). `planHa` allocates what an HA pool
 * needs (a VRRP router id unique on its subnet, one address per peer on that subnet, taken
 * like a VIP address); `HaExecutor` is the PoolExecutor of such a pool: every deploy goes
 * to both agents as native DEPLOY with the peer's part (`ha`, protocol version 2), so each
 * runs HAProxy and keepalived in its own namespace, and keepalived decides who holds the VIP.
 *
 * Contract (as PoolExecutor): a deploy succeeds when at least one peer serves (the pool is
 * available; the lost peer is named in the description and the warnings); it throws the
 * first peer's error when neither does (ConfigRejectedError: exit 3, as for a plain pool).
 */
import {AgentUnreachableError, ConflictError, LbaasError, RuntimeFailure, ValidationError} from '../domain/errors.js'
import {firstFreeHost} from '../domain/ip.js'
import {isFunctionName} from '../gearman/function-name.js'
import type {PoolGraph, Subnet} from '../domain/types.js'
import {addPendingUndeploy, forgetDeployedConfig, recordDeployedConfig} from '../store/agents.js'
import type {Db, Store} from '../store/db.js'
import {getHaPool, haPeerAddresses, routerIdsOnSubnet, type HaPeerRow, type HaPoolRow, type HaRole} from '../store/ha.js'
import {addressesInUse} from '../store/vips.js'
import {errorFromWire, type AgentStats, type NativeResponse} from '../agent/protocol.js'
import {AGENT_TIMEOUTS, type AgentTransport} from '../agent/transport.js'
import {LBAAS_HA_PROTOCOL_VERSION, type HaWire} from './ha-protocol.js'
import type {DeployOutcome, ExecutorHooks, LiveStats, PoolExecutor} from '../executor/port.js'
import {subnetNetwork} from './subnets.js'

export const HA_TOPOLOGY = 'active-standby'
export const ROLES: readonly HaRole[] = ['a', 'b']

/** `--ha` and `--agents` checked: two different agent names. */
export function haAgents(ha: unknown, agents: unknown): [string, string] | undefined {
  if (ha === undefined && agents === undefined) return undefined
  if (ha !== HA_TOPOLOGY) throw new ValidationError('ha', `--ha must be ${HA_TOPOLOGY}`, `pool create ... --ha ${HA_TOPOLOGY} --agents A,B`)
  const names = typeof agents === 'string' ? agents.split(',').map((name) => name.trim()).filter(Boolean) : []
  if (names.length !== 2) throw new ValidationError('agents', '--agents needs exactly two agent names, e.g. --agents host1,host2')
  if (names[0] === names[1]) throw new ValidationError('agents', 'the two peers of an HA pool must run on two different agents')
  for (const name of names) {
    if (!isFunctionName(name) || name === 'local' || name === 'auto') {
      throw new ValidationError('agents', `agent ${JSON.stringify(name)} must be an agent name (lbaas agent list), not local or auto`)
    }
  }
  return [names[0], names[1]]
}

/** Router id and peer addresses for a new HA pool on `subnet`. Call inside `store.write`. */
export function planHa(db: Db, poolId: string, subnet: Subnet, agents: [string, string]): HaPoolRow {
  const taken = routerIdsOnSubnet(db, subnet.id)
  const routerId = Array.from({length: 255}, (_, index) => index + 1).find((id) => !taken.has(id))
  if (routerId === undefined) throw new ConflictError('router_ids_exhausted', `subnet ${subnet.name} already has 255 HA pools (VRRP router ids 1–255)`)
  const network = subnetNetwork(subnet.cidr)
  const used = new Set([...addressesInUse(db), ...haPeerAddresses(db), subnet.gateway_ip])
  const peers: HaPeerRow[] = ROLES.map((role, index) => {
    const address = firstFreeHost(network, used)
    if (!address) throw new ConflictError('subnet_full', `subnet ${subnet.name} (${subnet.cidr}) has no free address for HA peer ${role}`)
    used.add(address)
    return {role, agent: agents[index], address}
  })
  return {pool_id: poolId, subnet_id: subnet.id, virtual_router_id: routerId, peers}
}

function wireOf(ha: HaPoolRow, role: HaRole): HaWire {
  const address = (of: HaRole) => ha.peers.find((peer) => peer.role === of)!.address
  return {role, virtual_router_id: ha.virtual_router_id, addresses: {a: address('a'), b: address('b')}}
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

type PassAnswer = Extract<NativeResponse, {lbaas_response: 'PASS'}> & {ha_state?: string | null}

async function request(transport: AgentTransport, agent: string, body: Record<string, unknown>, timeoutMs: number): Promise<PassAnswer> {
  const message = {...body, lbaas_version: LBAAS_HA_PROTOCOL_VERSION, expires_at: new Date(Date.now() + timeoutMs).toISOString()}
  const answer = await transport.send(agent, message as never, timeoutMs)
  if (!isRecord(answer) || (answer.lbaas_response !== 'PASS' && answer.lbaas_response !== 'FAIL')) {
    throw new RuntimeFailure('agent_protocol', `${agent} answered, but not as an lbaas agent (is it running \`lbaas serve-worker\`?)`)
  }
  if (answer.lbaas_response === 'FAIL') throw errorFromWire(agent, answer.error as never)
  return answer as PassAnswer
}

export interface HaPeerLive {
  role: HaRole
  agent: string
  address: string
  /** MASTER, BACKUP, FAULT, STOP from keepalived; UNREACHABLE when the agent did not answer; null before keepalived reported. */
  state: string | null
}

export class HaExecutor implements PoolExecutor {
  readonly name: string

  constructor(
    private readonly ha: HaPoolRow,
    private readonly transport: AgentTransport,
    private readonly store?: Store,
  ) {
    this.name = ha.peers.map((peer) => peer.agent).join('+')
  }

  private async both<T>(work: (peer: HaPeerRow) => Promise<T>): Promise<{peer: HaPeerRow; result?: T; error?: unknown}[]> {
    return Promise.all(
      this.ha.peers.map(async (peer) => {
        try {
          return {peer, result: await work(peer)}
        } catch (error) {
          return {peer, error}
        }
      }),
    )
  }

  private async deployBoth(graph: PoolGraph, action: 'DEPLOY' | 'RUNTIME', memberIds: readonly string[]): Promise<DeployOutcome> {
    if (graph.vipSubnet && graph.vipSubnet.id !== this.ha.subnet_id) {
      throw new ValidationError('subnet', `the VIP of an HA pool must be on the pool's subnet (${this.ha.subnet_id}), where its peers have their addresses`)
    }
    const results = await this.both((peer) =>
      request(
        this.transport,
        peer.agent,
        {lbaas_action: action, graph: {...graph, pool: {...graph.pool, agent: peer.agent}}, member_ids: [...memberIds], ha: wireOf(this.ha, peer.role)},
        AGENT_TIMEOUTS.deploy,
      ),
    )
    const served = results.filter((entry) => entry.result)
    const store = this.store
    if (store) {
      for (const {peer, result} of served) {
        const config_hash = typeof result!.config_hash === 'string' ? result!.config_hash : null
        store.write(() => recordDeployedConfig(store.db, graph.pool.id, {agent: peer.agent, config_hash}))
      }
    }
    if (served.length === 0) throw results[0].error
    const lost = results.filter((entry) => entry.error)
    const warnings = served.flatMap((entry) => {
      const outcome = entry.result!.outcome
      return (outcome?.warnings ?? []).map((warning) => `agent ${entry.peer.agent}: ${warning}`)
    })
    const lostText = lost.map((entry) => `peer ${entry.peer.role} on agent ${entry.peer.agent}: ${(entry.error as Error).message}`)
    return {
      state: served[0].result!.outcome?.state ?? 'serving',
      reloaded: served.some((entry) => entry.result!.counters_restarted === true),
      description: lost.length > 0 ? `degraded: ${lostText.join('; ')}` : null,
      warnings: [...warnings, ...lostText.map((text) => `HA ${text}`)],
    }
  }

  deploy(graph: PoolGraph, _hooks: ExecutorHooks): Promise<DeployOutcome> {
    return this.deployBoth(graph, 'DEPLOY', [])
  }

  applyRuntime(graph: PoolGraph, memberIds: readonly string[], _hooks: ExecutorHooks): Promise<DeployOutcome> {
    return this.deployBoth(graph, 'RUNTIME', memberIds)
  }

  /** Both peers; one that does not answer is told later (pending undeploy, as for a moved pool). */
  async undeploy(poolId: string): Promise<void> {
    const results = await this.both((peer) => request(this.transport, peer.agent, {lbaas_action: 'UNDEPLOY', pool_id: poolId}, AGENT_TIMEOUTS.deploy))
    for (const entry of results) {
      if (!entry.error) {
        this.store?.write(() => forgetDeployedConfig(this.store!.db, poolId, entry.peer.agent))
        continue
      }
      if (!(entry.error instanceof AgentUnreachableError) || !this.store) throw entry.error
      this.store.write(() => addPendingUndeploy(this.store!.db, entry.peer.agent, poolId))
    }
  }

  /** Each peer's keepalived state, from STATS (UNREACHABLE when an agent does not answer). */
  async peerStates(poolId: string): Promise<{peers: HaPeerLive[]; stats: Map<HaRole, AgentStats | null>}> {
    const stats = new Map<HaRole, AgentStats | null>()
    const results = await this.both((peer) => request(this.transport, peer.agent, {lbaas_action: 'STATS', pool_id: poolId}, AGENT_TIMEOUTS.stats))
    const peers = results.map(({peer, result}) => {
      stats.set(peer.role, (result?.stats as AgentStats | undefined) ?? null)
      const state = result ? (typeof result.ha_state === 'string' ? result.ha_state : null) : 'UNREACHABLE'
      return {role: peer.role, agent: peer.agent, address: peer.address, state}
    })
    return {peers, stats}
  }

  /** The MASTER's live stats (it carries the traffic); null when no peer serves. */
  async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    const {peers, stats} = await this.peerStates(graph.pool.id)
    const master = peers.find((peer) => peer.state === 'MASTER') ?? peers.find((peer) => stats.get(peer.role)?.running)
    const chosen = master ? stats.get(master.role) : null
    if (!chosen || !chosen.running) return null
    return {counters: chosen.counters, members: chosen.members}
  }

  async ensureSubnet(_subnet: Subnet): Promise<void> {}

  async removeSubnet(_subnet: Subnet): Promise<void> {}
}

/** The HA executor of a pool, or undefined when the pool is not an HA pool of this controller. */
export function haExecutorFor(store: Store, transport: AgentTransport, poolId: string | undefined): HaExecutor | undefined {
  if (!poolId) return undefined
  let ha: HaPoolRow | undefined
  try {
    ha = store.read(() => getHaPool(store.db, poolId))
  } catch (error) {
    if (error instanceof LbaasError) throw error
    return undefined
  }
  return ha ? new HaExecutor(ha, transport, store) : undefined
}

/** The pool with its HA fields (`ha`, `virtual_router_id`, `peers`) when it is an HA pool; unchanged otherwise. */
export function withHa<T extends {id: string}>(db: Db, pool: T): T {
  const ha = getHaPool(db, pool.id)
  if (!ha) return pool
  return {
    ...pool,
    ha: HA_TOPOLOGY,
    virtual_router_id: ha.virtual_router_id,
    peers: ha.peers.map((peer) => ({agent: peer.agent, address: peer.address, role: peer.role})),
  }
}

/** Healthy peer states: a pool with any other (FAULT, STOP, UNREACHABLE, none yet) has lost a peer. */
const HEALTHY_STATES = new Set(['MASTER', 'BACKUP'])

export interface HaLive {
  ha: typeof HA_TOPOLOGY
  virtual_router_id: number
  peers: HaPeerLive[]
  /** The peer holding the VIP, or null when none says MASTER. */
  master: HaRole | null
  /** A peer is lost: the pool's operating status is DEGRADED. */
  degraded: boolean
  /** No peer is MASTER: nothing holds the VIP. */
  down: boolean
}

/** An HA pool's operating status from its stored one and its peers. */
export function haOperatingStatus<T extends string>(stored: T, live: HaLive): T | 'DEGRADED' | 'OFFLINE' {
  if (stored === 'ERROR') return stored
  if (live.down) return 'OFFLINE'
  return live.degraded ? 'DEGRADED' : stored
}

/** Live HA view of a pool (asks both agents, STATS); undefined for a pool that is not HA. */
export async function haLive(store: Store, transport: AgentTransport | undefined, poolId: string): Promise<HaLive | undefined> {
  const ha = store.read(() => getHaPool(store.db, poolId))
  if (!ha) return undefined
  const executor = new HaExecutor(ha, transport ?? {servers: [], registry: async () => ({workers: new Map(), registeredOn: new Map(), agents: new Set(), unreachable: []}), send: async (agent) => {
    throw new AgentUnreachableError(agent, 'no Gearman job servers are configured (set LBAAS_GEARMAN_SERVERS)')
  }}, store)
  const {peers} = await executor.peerStates(poolId)
  const masters = peers.filter((peer) => peer.state === 'MASTER')
  return {
    ha: HA_TOPOLOGY,
    virtual_router_id: ha.virtual_router_id,
    peers,
    master: masters.length === 1 ? masters[0].role : null,
    degraded: peers.some((peer) => !HEALTHY_STATES.has(peer.state ?? '')),
    down: masters.length === 0,
  }
}
