import {randomUUID} from 'node:crypto'

import {ConflictError, NotFoundError, ValidationError} from '../domain/errors.js'
import type {Pool, PoolStats} from '../domain/types.js'
import {bool, displayName, freeText, lbMethod, protocol} from '../domain/validation.js'
import {deletePoolRow, getPool, insertPool, listPools, setPoolStatus, updatePoolRow, type PoolChanges} from '../store/pools.js'
import {addPendingUndeploy} from '../store/agents.js'
import {memberHealthDetails} from '../store/members.js'
import {storedCounters} from '../store/stats.js'
import {crashPoint} from '../util/crash-point.js'
import {chooseAgent, undeployFrom} from './agents.js'
import {applyPool, refreshPoolHealth} from './apply.js'
import type {AppContext} from './context.js'
import {haAgents, haLive, haOperatingStatus, planHa, withHa} from './ha.js'
import {getHaPool, insertHaPool} from '../store/ha.js'
import {changeHa} from './ha-update.js'
import {resolvePool, resolveSubnet} from './resolve.js'

export interface PoolInput {
  name: unknown
  description?: unknown
  subnet: string
  protocol: unknown
  lb_method: unknown
  admin_state_up?: unknown
  agent?: unknown
  /** SPEC §11: `active-standby` with two agent names (`A,B`). */
  ha?: unknown
  agents?: unknown
}

export async function createPool(ctx: AppContext, input: PoolInput): Promise<Pool> {
  const haPeers = haAgents(input.ha, input.agents)
  if (haPeers && input.agent !== undefined) throw new ValidationError('agent', 'an HA pool runs on --agents A,B; leave out --agent')
  // Both agents must answer DISCOVER now (they get the pool's DEPLOY when it has a VIP).
  if (haPeers) for (const name of haPeers) await chooseAgent(ctx, name)
  const record = {
    id: randomUUID(),
    name: displayName(input.name),
    description: input.description === undefined ? '' : freeText('description', input.description),
    protocol: protocol(input.protocol),
    lb_method: lbMethod(input.lb_method),
    admin_state_up: input.admin_state_up === undefined ? true : bool('admin_state_up', input.admin_state_up),
    // A pool without a VIP is state only (as in Neutron): nothing to wait for.
    status: 'ACTIVE' as const,
    status_description: null,
    // Last: `auto` and agent names ask the job servers (SPEC §6).
    agent: haPeers ? haPeers[0] : await chooseAgent(ctx, input.agent),
  }
  const {db} = ctx.store
  return ctx.store.write(() => {
    const subnet = resolveSubnet(db, input.subnet)
    insertPool(db, {...record, subnet_id: subnet.id})
    if (haPeers) insertHaPool(db, planHa(db, record.id, subnet, haPeers))
    return withHa(db, getPool(db, record.id)!)
  })
}

export function listAllPools(ctx: AppContext): Pool[] {
  return listPools(ctx.store.db)
}

export function showPool(ctx: AppContext, ref: string): Pool {
  return withHa(ctx.store.db, resolvePool(ctx.store.db, ref))
}

/**
 * `pool show`: the pool, and for an HA pool with a VIP (SPEC §11) each peer's live
 * keepalived state (which one is MASTER) and DEGRADED when a peer is lost.
 */
export async function showPoolLive(ctx: AppContext, ref: string): Promise<Pool> {
  const pool = showPool(ctx, ref)
  if (!pool.vip_id) return pool
  const live = await haLive(ctx.store, ctx.agentTransport, pool.id)
  if (!live) return pool
  return {
    ...pool,
    operating_status: haOperatingStatus(pool.operating_status, live),
    peers: live.peers,
    master: live.master,
  } as Pool
}

export interface PoolUpdate {
  name?: unknown
  description?: unknown
  lb_method?: unknown
  admin_state_up?: unknown
  /** Moves the pool (SPEC §6): `local`, `auto` or an agent name. */
  agent?: unknown
  /** SPEC §11: `active-standby` (with `agents: 'A,B'`) or `none`; changes only the placement. */
  ha?: unknown
  agents?: unknown
}

export async function updatePool(ctx: AppContext, ref: string, update: PoolUpdate): Promise<Pool> {
  const changes: PoolChanges = {
    name: update.name === undefined ? undefined : displayName(update.name),
    description: update.description === undefined ? undefined : freeText('description', update.description),
    lb_method: update.lb_method === undefined ? undefined : lbMethod(update.lb_method),
    admin_state_up: update.admin_state_up === undefined ? undefined : bool('admin_state_up', update.admin_state_up),
  }
  if (Object.values(changes).every((value) => value === undefined) && update.agent === undefined && update.ha === undefined && update.agents === undefined) {
    throw new ValidationError('update', 'nothing to update: give at least one of --name, --description, --lb-method, --admin-state-up, --agent, --ha')
  }
  const {db} = ctx.store
  if (update.ha !== undefined || update.agents !== undefined) {
    if (Object.values(changes).some((value) => value !== undefined)) {
      throw new ValidationError('ha', '--ha/--agents change where the pool runs; give the other changes in another `pool update`')
    }
    return changeHa(ctx, ref, {ha: update.ha, agents: update.agents, agent: update.agent})
  }
  if (update.agent !== undefined && ctx.store.read(() => getHaPool(db, resolvePool(db, ref).id))) {
    throw new ValidationError('agent', 'an HA pool runs on two agents: change them with --ha active-standby --agents A,B (or --ha none --agent NAME)')
  }
  let destination: string | undefined
  if (update.agent !== undefined) {
    const chosen = await chooseAgent(ctx, update.agent)
    if (chosen !== resolvePool(db, ref).agent) destination = chosen
  }
  const pool = ctx.store.write(() => {
    const found = resolvePool(db, ref)
    updatePoolRow(db, found.id, {...changes, agent: destination})
    if (found.vip_id) setPoolStatus(db, found.id, 'PENDING_UPDATE')
    return found
  })
  if (pool.vip_id) {
    try {
      // A move deploys on the new agent first: the old one keeps serving until it is ready.
      await applyPool(ctx, pool.id, {pool: true})
    } catch (error) {
      // The pool still runs where it was; the state file says so, and the status says why.
      if (destination !== undefined) {
        ctx.store.write(() => updatePoolRow(db, pool.id, {agent: pool.agent}))
        await leaveNothingOn(ctx, pool.id, destination)
      }
      throw error
    }
    if (destination !== undefined) await undeployFrom(ctx, pool.id, pool.agent)
  }
  const updated = getPool(db, pool.id)
  if (!updated) throw new NotFoundError('pool', pool.id, 'another command deleted it while this one ran')
  return updated
}

/**
 * A failed move may have left part of the pool on its destination (a deploy that timed out
 * there, or failed after starting): remove it, or remember to (SPEC §6), so two hosts never
 * answer for one VIP. The move's own error is what the operator sees.
 */
async function leaveNothingOn(ctx: AppContext, poolId: string, destination: string): Promise<void> {
  try {
    await undeployFrom(ctx, poolId, destination)
  } catch (error) {
    ctx.notify.warn(`the failed move may have left pool ${poolId} on ${destination}: ${(error as Error).message}; \`lbaas sync\` removes it`)
    if (destination !== 'local') ctx.store.write(() => addPendingUndeploy(ctx.store.db, destination, poolId))
  }
}

/** Refuses while a VIP uses the pool; otherwise removes its members and associations too. */
export async function deletePool(ctx: AppContext, ref: string): Promise<Pool> {
  const {db} = ctx.store
  const pool = ctx.store.write(() => {
    const found = resolvePool(db, ref)
    if (found.vip_id) {
      throw new ConflictError('in_use', `pool ${found.name} is in use by VIP ${found.vip_id}`, `delete the VIP first: \`lbaas vip delete ${found.vip_id} --yes\``)
    }
    deletePoolRow(db, found.id)
    return found
  })
  crashPoint('pool-delete-after-row-removed')
  // Leftovers of an earlier failed undeploy, if any (an unreachable agent is told later).
  await undeployFrom(ctx, pool.id, pool.agent)
  return pool
}

/** SPEC §1 pool stats: cumulative counters plus per-member health, read live when deployed. */
export async function poolStats(ctx: AppContext, ref: string): Promise<PoolStats> {
  const pool = resolvePool(ctx.store.db, ref)
  const refreshed = await refreshPoolHealth(ctx, pool.id)
  const counters = refreshed?.counters ?? storedCounters(ctx.store.db, pool.id)
  const details = new Map(memberHealthDetails(ctx.store.db, pool.id).map((row) => [row.id, row]))
  return {
    bytes_in: counters.bytes_in,
    bytes_out: counters.bytes_out,
    active_connections: refreshed?.counters ? counters.active_connections : 0,
    total_connections: counters.total_connections,
    members: (refreshed?.graph.members ?? []).map((member) => ({
      id: member.id,
      status: member.status,
      health: details.get(member.id)?.health ?? '',
      failed_checks: details.get(member.id)?.failed_checks ?? 0,
    })),
  }
}
