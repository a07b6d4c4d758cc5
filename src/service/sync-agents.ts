/**
 * `lbaas sync` on a controller (SPEC §4.5 "Agent pools too", §6 "No pool is stranded"):
 * settles the pools placed on agents. Each known agent is asked DISCOVER (pools hosted, with
 * the hash of the configuration each runs); a pool that is missing, stopped, or runs another
 * configuration than the one its agent answered after the last deploy is redeployed; pools
 * deleted or moved while their agent was unreachable are undeployed from it; the pools of a
 * silent agent become ERROR with the reason; the pools of a dead one move to live agents.
 *
 * Every action is its own: one agent's failure never keeps another action from running.
 * The decisions (who is dead, which pools move where, the partition guard) are the pure
 * `planRescue`; this module observes and builds the actions around it.
 */
import type {AgentDiscovery, HostedPool} from '../agent/protocol.js'
import {AGENT_TIMEOUTS, requestAgent} from '../agent/transport.js'
import {AgentUnreachableError, RuntimeFailure} from '../domain/errors.js'
import {isPending} from '../domain/status.js'
import type {Pool, PoolGraph} from '../domain/types.js'
import {
  addPendingUndeploy,
  agentsWithPendingUndeploys,
  deployedConfigs,
  listAgentRows,
  pendingUndeploys,
  removePendingUndeploy,
  type DeployedConfig,
} from '../store/agents.js'
import type {Db} from '../store/db.js'
import {getHaPool, type HaRole} from '../store/ha.js'
import {loadPoolGraph} from '../store/graph.js'
import {deleteMemberRow, setMemberStatus} from '../store/members.js'
import {deleteAssociationRow, setAssociationStatus} from '../store/monitors.js'
import {listPools, setPoolStatus} from '../store/pools.js'
import {deleteVipRow, setVipStatus} from '../store/vips.js'
import {pingAgents, rememberLiveAgents, transportOf} from './agents.js'
import {applyPool} from './apply.js'
import type {AppContext} from './context.js'
import {updatePool} from './pools.js'
import {HA_TOPOLOGY} from './ha.js'
import {changeHa} from './ha-update.js'

export const DEFAULT_DEAD_AFTER_MS = 60_000
export const DEFAULT_MAX_MOVES = 10

/** The shape of sync's actions (service/sync.ts `PlannedAction`). */
export interface AgentSyncAction {
  kind: 'deploy' | 'undeploy' | 'settle' | 'move' | 'problem'
  target: string
  reason: string
  apply?: () => Promise<void>
}

export interface AgentSyncOptions {
  dryRun?: boolean
  /** An agent silent for longer than this is dead (SPEC §6, `--dead-after`). */
  deadAfterMs?: number
  /** At most this many pools of dead agents move per run (`--max-moves`). */
  maxMoves?: number
  now?: Date
}

// ---- the pure decisions ------------------------------------------------------------------

export interface AgentSighting {
  name: string
  /** Answered DISCOVER in this run. */
  answered: boolean
  /** ISO time of the last DISCOVER answer ever; null: never answered this controller. */
  lastSeen: string | null
}

export interface PlacedPool {
  id: string
  agent: string
  /** Pools with a VIP move first: they are what clients reach. */
  hasVip: boolean
}

/** An HA pool (SPEC §11): its two peers, each on its own agent. */
export interface PlacedHaPool {
  id: string
  hasVip: boolean
  peers: readonly {role: HaRole; agent: string}[]
}

export interface RescueInput {
  agents: readonly AgentSighting[]
  /** Every plain pool placed on an agent (not `local`). */
  pools: readonly PlacedPool[]
  /** Every HA pool: a peer on a dead agent gets a new agent. */
  haPools?: readonly PlacedHaPool[]
  now: Date
  deadAfterMs: number
  maxMoves: number
}

export interface PoolMove {
  poolId: string
  from: string
  to: string
  /** Set for an HA pool: the peer that gets a new agent. */
  role?: HaRole
}

export interface RescuePlan {
  /** Silent for longer than deadAfterMs (or never seen). */
  dead: string[]
  /** Silent, but not for long enough to be dead: their pools wait. */
  silent: string[]
  moves: PoolMove[]
  /** Pools (or HA peers) of dead agents that do not move in this run, with why. */
  waiting: {poolId: string; agent: string; why: 'partition' | 'max-moves' | 'no-live-agent'; role?: HaRole}[]
  /** Set when more than half of the known agents look dead: nothing moves. */
  partition: {dead: number; known: number} | null
}

/**
 * Who is dead, which pools move where (the `auto` rule: the live agent hosting fewest
 * pools, ties by name, counting the moves already planned), at most `maxMoves`, and the
 * partition guard: when more than half of the known agents look dead, the controller's own
 * network is the likelier culprit, so nothing moves. An HA peer on a dead agent is one move:
 * it goes to a live agent by the same rule, never to the agent of the pool's other peer
 * (an HA peer counts as a pool on its agent).
 */
export function planRescue(input: RescueInput): RescuePlan {
  const now = input.now.getTime()
  const isDead = (agent: AgentSighting) => {
    if (agent.answered) return false
    const seen = agent.lastSeen === null ? Number.NaN : Date.parse(agent.lastSeen)
    return Number.isNaN(seen) || now - seen > input.deadAfterMs
  }
  const dead = input.agents.filter(isDead).map((agent) => agent.name)
  const silent = input.agents.filter((agent) => !agent.answered && !isDead(agent)).map((agent) => agent.name)
  const live = input.agents.filter((agent) => agent.answered).map((agent) => agent.name)
  const haPools = input.haPools ?? []
  type Stranded = {poolId: string; agent: string; hasVip: boolean; role?: HaRole}
  const stranded: Stranded[] = [
    ...input.pools.filter((pool) => dead.includes(pool.agent)).map((pool): Stranded => ({poolId: pool.id, agent: pool.agent, hasVip: pool.hasVip})),
    ...haPools.flatMap((pool) =>
      pool.peers.filter((peer) => dead.includes(peer.agent)).map((peer): Stranded => ({poolId: pool.id, agent: peer.agent, hasVip: pool.hasVip, role: peer.role})),
    ),
  ].sort((a, b) => Number(b.hasVip) - Number(a.hasVip) || a.poolId.localeCompare(b.poolId) || (a.role ?? '').localeCompare(b.role ?? ''))
  const plan: RescuePlan = {dead, silent, moves: [], waiting: [], partition: null}
  const wait = (entry: (typeof stranded)[number], why: RescuePlan['waiting'][number]['why']) =>
    plan.waiting.push({poolId: entry.poolId, agent: entry.agent, why, ...(entry.role ? {role: entry.role} : {})})
  if (dead.length * 2 > input.agents.length) {
    plan.partition = {dead: dead.length, known: input.agents.length}
    for (const entry of stranded) wait(entry, 'partition')
    return plan
  }
  const hosted = (name: string) =>
    input.pools.filter((pool) => pool.agent === name).length + haPools.filter((pool) => pool.peers.some((peer) => peer.agent === name)).length
  const counts = new Map(live.map((name) => [name, hosted(name)]))
  /** Where each HA peer runs after the moves planned so far. */
  const peerAgent = new Map(haPools.flatMap((pool) => pool.peers.map((peer) => [`${pool.id}/${peer.role}`, peer.agent] as const)))
  for (const entry of stranded) {
    const otherPeer = entry.role ? peerAgent.get(`${entry.poolId}/${entry.role === 'a' ? 'b' : 'a'}`) : undefined
    const candidates = live.filter((name) => name !== otherPeer)
    if (candidates.length === 0) {
      wait(entry, 'no-live-agent')
      continue
    }
    if (plan.moves.length >= input.maxMoves) {
      wait(entry, 'max-moves')
      continue
    }
    const to = [...candidates].sort((a, b) => counts.get(a)! - counts.get(b)! || a.localeCompare(b))[0]!
    counts.set(to, counts.get(to)! + 1)
    if (entry.role) peerAgent.set(`${entry.poolId}/${entry.role}`, to)
    plan.moves.push({poolId: entry.poolId, from: entry.agent, to, ...(entry.role ? {role: entry.role} : {})})
  }
  return plan
}

/** Why a pool placed on a live agent needs a deploy; empty: the agent runs what the state file says. */
export function driftOf(graph: PoolGraph, agent: string, hosted: HostedPool | undefined, deployed: DeployedConfig | undefined): string[] {
  const wanted = graph.vip !== null && graph.vip.status !== 'PENDING_DELETE'
  const stale = staleObjects(graph)
  if (!wanted) return [...(hosted ? [`no VIP, but agent ${agent} still hosts it`] : []), ...stale]
  const host: string[] = []
  if (!hosted) host.push(`not deployed on agent ${agent}`)
  else if (!hosted.running) host.push(`HAProxy not running on agent ${agent}`)
  else if (deployed?.agent !== agent || deployed.config_hash !== hosted.config_hash) {
    host.push(`configuration on agent ${agent} differs from the state file`)
  }
  return [...host, ...stale]
}

/** PENDING_* left by a crash, and ERROR that a successful deploy clears. */
function staleObjects(graph: PoolGraph): string[] {
  const unsettled = (status: string) => isPending(status as never) || status === 'ERROR'
  return [
    ...(unsettled(graph.pool.status) ? [`pool ${graph.pool.status}`] : []),
    ...(graph.vip && unsettled(graph.vip.status) ? [`VIP ${graph.vip.status}`] : []),
    ...graph.members.filter((member) => unsettled(member.status)).map((member) => `member ${member.id} ${member.status}`),
    ...graph.associations.filter((association) => unsettled(association.status)).map((association) => `monitor ${association.monitor_id} ${association.status}`),
  ]
}

// ---- observing and acting ------------------------------------------------------------------

function poolLabel(pool: Pick<Pool, 'id' | 'name'>): string {
  return `pool ${pool.name} (${pool.id})`
}

/** sync's actions for the pools placed on agents; [] on a CLI that is not a controller and knows no agents. */
export async function planAgentSync(ctx: AppContext, options: AgentSyncOptions = {}): Promise<AgentSyncAction[]> {
  const {store} = ctx
  const db = store.db
  const pools = store.read(() => listPools(db).filter((pool) => pool.agent !== 'local'))
  const haRows = new Map(store.read(() => pools.flatMap((pool) => {
    const ha = getHaPool(db, pool.id)
    return ha ? [[pool.id, ha] as const] : []
  })))
  const peerAgents = [...haRows.values()].flatMap((ha) => ha.peers.map((peer) => peer.agent))
  let known = [...new Set([...store.read(() => listAgentRows(db)).map((row) => row.name), ...pools.map((pool) => pool.agent), ...peerAgents, ...agentsWithPendingUndeploys(db)])].sort()
  if (known.length === 0) return []
  const transport = transportOf(ctx)
  if (transport.servers.length === 0) {
    if (pools.length === 0) return []
    const reason = `${pools.length} pool(s) are placed on agents, but LBAAS_GEARMAN_SERVERS is not set: sync cannot reach them`
    return [{kind: 'problem', target: 'agents', reason, apply: async () => fail('no_job_servers', reason)}]
  }

  const registry = await transport.registry()
  for (const server of registry.unreachable) ctx.notify.warn(`job server ${server} did not answer`)
  // Live lbaas agents this controller has not placed anything on yet count too: they can
  // take moved pools, and they are part of the partition guard's "known agents".
  known = [...new Set([...known, ...registry.agents])].sort()
  const probes = await pingAgents(transport, registry, known)
  const now = options.now ?? new Date()
  if (!options.dryRun) rememberLiveAgents(store, probes, now)
  const rows = new Map(store.read(() => listAgentRows(db)).map((row) => [row.name, row]))
  const discoveries = new Map(probes.filter((probe) => probe.alive && probe.discovery).map((probe) => [probe.name, probe.discovery!]))
  const rescue = planRescue({
    agents: known.map((name) => ({name, answered: discoveries.has(name), lastSeen: rows.get(name)?.last_seen ?? null})),
    pools: pools.filter((pool) => !haRows.has(pool.id)).map((pool) => ({id: pool.id, agent: pool.agent, hasVip: pool.vip_id !== null})),
    haPools: [...haRows.values()].map((ha) => ({id: ha.pool_id, hasVip: pools.find((pool) => pool.id === ha.pool_id)!.vip_id !== null, peers: ha.peers})),
    now,
    deadAfterMs: options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS,
    maxMoves: options.maxMoves ?? DEFAULT_MAX_MOVES,
  })

  const actions: AgentSyncAction[] = []
  const deployed = store.read(() => deployedConfigs(db))
  /** Pools whose own deploy on an agent goes through AgentExecutor, which sends the agent's pending UNDEPLOYs first. */
  const deployedThrough = new Map<string, Set<string>>()
  // An HA pool runs on each peer's agent, each with its own configuration; a plain pool on its agent.
  const placedOn = new Map(pools.map((pool) => [pool.id, haRows.get(pool.id)?.peers.map((peer) => peer.agent) ?? [pool.agent]]))
  for (const pool of pools) {
    const placements = placedOn.get(pool.id)!.filter((agent) => discoveries.has(agent))
    if (placements.length === 0) continue
    const graph = store.read(() => loadPoolGraph(db, pool.id))
    if (!graph) continue
    const hostedOn = (agent: string) => discoveries.get(agent)!.pools.find((hosted) => hosted.id === pool.id)
    const reasons = [...new Set(placements.flatMap((agent) => driftOf(graph, agent, hostedOn(agent), deployed.lookup(pool.id, agent))))]
    if (reasons.length === 0) continue
    const wanted = graph.vip !== null && graph.vip.status !== 'PENDING_DELETE'
    const hosted = placements.some((agent) => hostedOn(agent) !== undefined)
    for (const agent of placements) deployedThrough.set(agent, (deployedThrough.get(agent) ?? new Set()).add(pool.id))
    actions.push({
      kind: wanted ? 'deploy' : hosted ? 'undeploy' : 'settle',
      target: poolLabel(pool),
      reason: reasons.join('; '),
      apply: async () => void (await applyPool(ctx, pool.id, {pool: true})),
    })
  }

  for (const [agent, discovery] of discoveries) {
    const leftovers = leftoversOn(db, agent, discovery, placedOn, deployedThrough.get(agent) ?? new Set())
    if (leftovers.length === 0) continue
    actions.push({
      kind: 'undeploy',
      target: `agent ${agent}`,
      reason: `pools deleted or moved while it was unreachable: ${leftovers.join(', ')}`,
      apply: () => undeployLeftovers(ctx, agent, leftovers),
    })
  }

  if (rescue.partition) {
    const {dead, known: all} = rescue.partition
    const reason =
      `${dead} of ${all} known agents look dead (${rescue.dead.join(', ')}): a partition of this controller is likelier ` +
      'than mass death, so no pool is moved; check the network to the job servers and `lbaas agent list`'
    actions.push({kind: 'problem', target: 'agents', reason, apply: async () => fail('partition_guard', reason)})
  }
  for (const [poolId, moves] of groupBy(rescue.moves.filter((move) => move.role), (move) => move.poolId)) {
    const pool = pools.find((candidate) => candidate.id === poolId)!
    const ha = haRows.get(poolId)!
    const agents = ha.peers.map((peer) => moves.find((move) => move.role === peer.role)?.to ?? peer.agent)
    const what = moves.map((move) => `peer ${move.role}'s agent ${move.from} is dead (${silence(rows.get(move.from)?.last_seen)}); its new agent: ${move.to}`)
    actions.push({
      kind: 'move',
      target: poolLabel(pool),
      reason: what.join('; '),
      // pool update --ha active-standby --agents: the old peer's agent is owed an UNDEPLOY (it does not answer).
      apply: async () => void (await changeHa(ctx, pool.id, {ha: HA_TOPOLOGY, agents: agents.join(',')})),
    })
  }
  for (const entry of rescue.waiting.filter((waiting) => waiting.role)) {
    const pool = pools.find((candidate) => candidate.id === entry.poolId)!
    const reason =
      `peer ${entry.role}'s agent ${entry.agent} is dead (${silence(rows.get(entry.agent)?.last_seen)}); ` +
      (entry.why === 'max-moves'
        ? `this run replaced --max-moves ${options.maxMoves ?? DEFAULT_MAX_MOVES} already: the next sync does it`
        : entry.why === 'no-live-agent'
          ? 'no live agent other than the other peer\'s can take it'
          : 'not replaced (partition guard)')
    actions.push({kind: 'problem', target: poolLabel(pool), reason, apply: async () => fail('ha_peer_lost', reason)})
  }
  for (const move of rescue.moves.filter((candidate) => !candidate.role)) {
    const pool = pools.find((candidate) => candidate.id === move.poolId)!
    actions.push({
      kind: 'move',
      target: poolLabel(pool),
      reason: `agent ${move.from} is dead (${silence(rows.get(move.from)?.last_seen)}); moving it to ${move.to}`,
      apply: () => movePool(ctx, pool, move.to),
    })
  }
  const waiting = new Map(rescue.waiting.map((entry) => [entry.poolId, entry.why]))
  for (const pool of pools) {
    if (discoveries.has(pool.agent) || rescue.moves.some((move) => move.poolId === pool.id)) continue
    // An HA pool with a peer on a live agent is served; its lost peer is handled above.
    const ha = haRows.get(pool.id)
    if (ha && (ha.peers.some((peer) => discoveries.has(peer.agent)) || rescue.waiting.some((entry) => entry.poolId === pool.id && entry.role))) continue
    const graph = store.read(() => loadPoolGraph(db, pool.id))
    // Nothing is served for a pool without a VIP: a silent agent keeps it only once it is dead.
    if (!graph || (!graph.vip && !waiting.has(pool.id) && staleObjects(graph).length === 0)) continue
    const why = waiting.get(pool.id)
    const reason =
      `agent ${pool.agent} does not answer DISCOVER (${silence(rows.get(pool.agent)?.last_seen)})` +
      (why === 'max-moves'
        ? `; it is dead, but this run moved --max-moves ${options.maxMoves ?? DEFAULT_MAX_MOVES} pools already: the next sync moves it`
        : why === 'no-live-agent'
          ? '; it is dead, and no live agent can take the pool'
          : why === 'partition'
            ? '; not moved (partition guard)'
            : '; it is not dead yet (--dead-after), so the pool stays there')
    actions.push({kind: 'problem', target: poolLabel(pool), reason, apply: () => markUnreachable(ctx, pool, reason)})
  }
  return actions
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item])
  return groups
}

function fail(code: string, reason: string): never {
  throw new RuntimeFailure(code, reason)
}

function silence(lastSeen: string | null | undefined): string {
  return lastSeen ? `last seen ${lastSeen}` : 'never seen by this controller'
}

/**
 * Pools to remove from a live agent: those recorded as pending undeploys, and those of this
 * state file it still hosts though they are placed elsewhere (moved, or an HA peer it no
 * longer runs; `placements`: the agents each pool runs on). Pools it hosts that this state
 * file does not know stay: they may belong to another controller (lbaas never removes what
 * it cannot prove it made). Pools redeployed on this agent in the same run are left to that
 * deploy, which sends the pending UNDEPLOYs first.
 */
function leftoversOn(db: Db, agent: string, discovery: AgentDiscovery, placements: ReadonlyMap<string, readonly string[]>, redeployed: Set<string>): string[] {
  const ours = new Set(listPools(db).map((pool) => pool.id))
  const misplaced = discovery.pools.filter((hosted) => ours.has(hosted.id) && !placements.get(hosted.id)?.includes(agent)).map((hosted) => hosted.id)
  return [...new Set([...pendingUndeploys(db, agent), ...misplaced])].filter((poolId) => !redeployed.has(poolId))
}

async function undeployLeftovers(ctx: AppContext, agent: string, poolIds: readonly string[]): Promise<void> {
  const transport = transportOf(ctx)
  const failures: string[] = []
  for (const poolId of poolIds) {
    try {
      await requestAgent(transport, agent, {lbaas_action: 'UNDEPLOY', pool_id: poolId}, AGENT_TIMEOUTS.deploy)
      ctx.store.write(() => removePendingUndeploy(ctx.store.db, agent, poolId))
    } catch (error) {
      failures.push(`${poolId}: ${(error as Error).message}`)
      if (error instanceof AgentUnreachableError) ctx.store.write(() => addPendingUndeploy(ctx.store.db, agent, poolId))
    }
  }
  if (failures.length > 0) throw new RuntimeFailure('undeploy_failed', `agent ${agent} did not remove ${failures.join('; ')}`)
}

/** The `pool update --agent` move, then a settle for a pool without a VIP (nothing was deployed to clear its status). */
async function movePool(ctx: AppContext, pool: Pool, to: string): Promise<void> {
  await updatePool(ctx, pool.id, {agent: to})
  const graph = ctx.store.read(() => loadPoolGraph(ctx.store.db, pool.id))
  if (graph && !graph.vip && staleObjects(graph).length > 0) await applyPool(ctx, pool.id, {pool: true})
}

/**
 * The pool's agent does not answer: the pool and its unsettled objects become ERROR with the
 * reason (PENDING_* never survives a sync); rows a crashed delete left PENDING_DELETE go, and
 * a deleted VIP is remembered as a pending undeploy for when the agent answers again.
 */
async function markUnreachable(ctx: AppContext, pool: Pool, reason: string): Promise<void> {
  await ctx.withPoolLock(pool.id, async () => {
    const {db} = ctx.store
    ctx.store.write(() => {
      const graph = loadPoolGraph(db, pool.id)
      if (!graph) return
      setPoolStatus(db, pool.id, 'ERROR', reason)
      if (graph.vip?.status === 'PENDING_DELETE') {
        deleteVipRow(db, graph.vip.id)
        addPendingUndeploy(db, pool.agent, pool.id)
      } else if (graph.vip && isPending(graph.vip.status)) setVipStatus(db, graph.vip.id, 'ERROR', reason)
      for (const member of graph.members) {
        if (member.status === 'PENDING_DELETE') deleteMemberRow(db, member.id)
        else if (isPending(member.status)) setMemberStatus(db, member.id, 'ERROR', reason)
      }
      for (const association of graph.associations) {
        if (association.status === 'PENDING_DELETE') deleteAssociationRow(db, pool.id, association.monitor_id)
        else if (isPending(association.status)) setAssociationStatus(db, pool.id, association.monitor_id, 'ERROR', reason)
      }
    })
  })
  throw new RuntimeFailure('agent_unreachable', reason)
}
