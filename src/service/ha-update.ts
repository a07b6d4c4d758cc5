/**
 * `pool update --ha active-standby --agents A,B` and `--ha none` (SPEC §11): turn a pool
 * into an HA pool, change the agents of its peers, or bring it back to one agent.
 *
 * Each agent's part is its "placement": `plain` (the pool's own namespace) or a peer role
 * (`lbaas-<id>-a|b`). An agent whose placement changes in place (plain → peer, peer →
 * plain) is told UNDEPLOY first, so one host never runs the VIP in two namespaces; then the
 * new placement is deployed (HaExecutor or the pool's single executor). Agents left out are
 * told UNDEPLOY afterwards (a pending undeploy when they do not answer). When the deploy
 * fails, the rows go back as they were, nothing stays on a destination (UNDEPLOY or a
 * pending one, as for a failed move), and the old placement is deployed again.
 */
import {AgentUnreachableError, NotFoundError, ValidationError} from '../domain/errors.js'
import type {Pool} from '../domain/types.js'
import {AGENT_TIMEOUTS, requestAgent} from '../agent/transport.js'
import {addPendingUndeploy, pendingUndeploys, removePendingUndeploy} from '../store/agents.js'
import {deleteHaPool, getHaPool, insertHaPool, replaceHaPeer, type HaPoolRow, type HaRole} from '../store/ha.js'
import {getVip} from '../store/vips.js'
import {getPool, setPoolStatus, updatePoolRow} from '../store/pools.js'
import {chooseAgent, transportOf} from './agents.js'
import {applyPool} from './apply.js'
import type {AppContext} from './context.js'
import {HA_TOPOLOGY, haAgents, planHa, ROLES, withHa} from './ha.js'
import {resolvePool, resolveSubnet} from './resolve.js'

export type Placement = 'plain' | HaRole

/** Which agent runs what for a pool: its single agent, or its two peers. */
export function placementOf(agent: string, ha: HaPoolRow | undefined): Map<string, Placement> {
  return ha ? new Map(ha.peers.map((peer) => [peer.agent, peer.role])) : new Map([[agent, 'plain' as Placement]])
}

/**
 * Peers for the agents `wanted`: an agent that already runs a peer keeps its role (so it is
 * not redeployed in another namespace); the others take the remaining roles in order.
 */
export function assignRoles(current: HaPoolRow | undefined, wanted: readonly [string, string]): {role: HaRole; agent: string}[] {
  const kept = new Map<HaRole, string>()
  for (const peer of current?.peers ?? []) if (wanted.includes(peer.agent)) kept.set(peer.role, peer.agent)
  const rest = wanted.filter((agent) => ![...kept.values()].includes(agent))
  return ROLES.map((role) => ({role, agent: kept.get(role) ?? rest.shift()!}))
}

export interface HaChange {
  /** `active-standby` or `none`. */
  ha: unknown
  /** `A,B` with active-standby. */
  agents?: unknown
  /** With `--ha none`: the single agent (default: peer a's). */
  agent?: unknown
}

export async function changeHa(ctx: AppContext, ref: string, change: HaChange): Promise<Pool> {
  const {db} = ctx.store
  const pool = resolvePool(db, ref)
  const before = ctx.store.read(() => getHaPool(db, pool.id))
  let after: HaPoolRow | undefined
  let single: string
  if (change.ha === 'none') {
    if (change.agents !== undefined) throw new ValidationError('agents', '--ha none takes no --agents (use --agent NAME for the single agent)')
    if (!before) throw new ValidationError('ha', `pool ${pool.name} is not an HA pool`)
    single = change.agent === undefined ? before.peers[0].agent : await chooseAgent(ctx, change.agent)
  } else {
    if (change.agent !== undefined) throw new ValidationError('agent', `an HA pool runs on --agents A,B; leave out --agent`)
    const wanted = haAgents(change.ha ?? HA_TOPOLOGY, change.agents)!
    for (const name of wanted) await chooseAgent(ctx, name)
    const subnet = ctx.store.read(() => resolveSubnet(db, pool.subnet_id))
    if (pool.vip_id) {
      const vip = ctx.store.read(() => getVip(db, pool.vip_id!))
      if (vip && vip.subnet_id !== subnet.id) {
        throw new ValidationError('subnet', `the VIP of an HA pool must be on the pool's subnet (${subnet.name}), where its peers have their addresses`)
      }
    }
    const peers = assignRoles(before, wanted)
    after = before
      ? {...before, peers: peers.map((peer) => ({...peer, address: before.peers.find((old) => old.role === peer.role)!.address}))}
      : ctx.store.read(() => planHa(db, pool.id, subnet, wanted))
    if (after.peers.every((peer, index) => before?.peers[index]?.agent === peer.agent)) return withRows(ctx, pool.id)
    single = after.peers[0].agent
  }

  const from = placementOf(pool.agent, before)
  const to = placementOf(single, after)
  store(ctx, pool.id, single, before, after)
  if (!pool.vip_id) return withRows(ctx, pool.id)
  // Changed in place, or owed an UNDEPLOY of this pool from earlier (a stale part may run there).
  const owed = ctx.store.read(() => [...to.keys()].filter((agent) => agent !== 'local' && pendingUndeploys(db, agent).includes(pool.id)))
  const changedInPlace = [...new Set([...[...from].filter(([agent, placement]) => to.has(agent) && to.get(agent) !== placement).map(([agent]) => agent), ...owed])]
  for (const agent of changedInPlace) await undeployOne(ctx, pool.id, agent)
  try {
    await applyPool(ctx, pool.id, {pool: true})
  } catch (error) {
    store(ctx, pool.id, pool.agent, after, before, false)
    for (const [agent, placement] of to) if (from.get(agent) !== placement) await leaveNothing(ctx, pool.id, agent)
    if (changedInPlace.length > 0) {
      await applyPool(ctx, pool.id, {pool: true}).catch((again: Error) =>
        ctx.notify.warn(`pool ${pool.name}: the old placement did not come back either: ${again.message}; \`lbaas sync\` retries`),
      )
    }
    throw error
  }
  for (const agent of from.keys()) if (!to.has(agent)) await leaveNothing(ctx, pool.id, agent)
  return withRows(ctx, pool.id)
}

/** The placement rows; `pending` marks the pool PENDING_UPDATE (not when a failed change goes back: it keeps its ERROR). */
function store(ctx: AppContext, poolId: string, agent: string, old: HaPoolRow | undefined, next: HaPoolRow | undefined, pending = true): void {
  const {db} = ctx.store
  ctx.store.write(() => {
    updatePoolRow(db, poolId, {agent})
    if (!next) deleteHaPool(db, poolId)
    else if (!old) insertHaPool(db, next)
    else for (const peer of next.peers) replaceHaPeer(db, poolId, peer)
    if (pending && getPool(db, poolId)?.vip_id) setPoolStatus(db, poolId, 'PENDING_UPDATE')
  })
}

function withRows(ctx: AppContext, poolId: string): Pool {
  const pool = ctx.store.read(() => getPool(ctx.store.db, poolId))
  if (!pool) throw new NotFoundError('pool', poolId, 'another command deleted it while this one ran')
  return withHa(ctx.store.db, pool)
}

/** UNDEPLOY of one agent's part only (the pool's executor would address every peer). */
export async function undeployOne(ctx: AppContext, poolId: string, agent: string): Promise<void> {
  if (agent === 'local') {
    await ctx.withPoolLock(poolId, () => ctx.localExecutor.undeploy(poolId))
    return
  }
  try {
    await requestAgent(transportOf(ctx), agent, {lbaas_action: 'UNDEPLOY', pool_id: poolId}, AGENT_TIMEOUTS.deploy)
    ctx.store.write(() => removePendingUndeploy(ctx.store.db, agent, poolId))
  } catch (error) {
    if (!(error instanceof AgentUnreachableError)) throw error
    ctx.store.write(() => addPendingUndeploy(ctx.store.db, agent, poolId))
    ctx.notify.warn(`${error.message}; the pool will be removed from ${agent} when it answers again`)
  }
}

/** As undeployOne, but a refusal is a warning and a pending undeploy: the change's own outcome is what counts. */
async function leaveNothing(ctx: AppContext, poolId: string, agent: string): Promise<void> {
  try {
    await undeployOne(ctx, poolId, agent)
  } catch (error) {
    ctx.notify.warn(`pool ${poolId} may remain on ${agent}: ${(error as Error).message}; \`lbaas sync\` removes it`)
    if (agent !== 'local') ctx.store.write(() => addPendingUndeploy(ctx.store.db, agent, poolId))
  }
}
