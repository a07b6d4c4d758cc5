import {randomUUID} from 'node:crypto'

import {ConflictError, ValidationError} from '../domain/errors.js'
import type {Pool, PoolStats} from '../domain/types.js'
import {bool, displayName, freeText, lbMethod, protocol} from '../domain/validation.js'
import {deletePoolRow, getPool, insertPool, listPools, setPoolStatus, updatePoolRow, type PoolChanges} from '../store/pools.js'
import {memberHealthDetails} from '../store/members.js'
import {storedCounters} from '../store/stats.js'
import {applyPool, refreshPoolHealth} from './apply.js'
import type {AppContext} from './context.js'
import {resolvePool, resolveSubnet} from './resolve.js'

export interface PoolInput {
  name: unknown
  description?: unknown
  subnet: string
  protocol: unknown
  lb_method: unknown
  admin_state_up?: unknown
  agent?: unknown
}

/** Where a pool runs. Only the local host until agents (serve-worker) can take pools. */
function agentName(value: unknown): string {
  if (value === undefined || value === 'local') return 'local'
  throw new ValidationError('agent', `agent ${JSON.stringify(value)} is not known; only local is available`)
}

export async function createPool(ctx: AppContext, input: PoolInput): Promise<Pool> {
  const record = {
    id: randomUUID(),
    name: displayName(input.name),
    description: input.description === undefined ? '' : freeText('description', input.description),
    protocol: protocol(input.protocol),
    lb_method: lbMethod(input.lb_method),
    admin_state_up: input.admin_state_up === undefined ? true : bool('admin_state_up', input.admin_state_up),
    agent: agentName(input.agent),
    // A pool without a VIP is state only (as in Neutron): nothing to wait for.
    status: 'ACTIVE' as const,
    status_description: null,
  }
  const {db} = ctx.store
  return ctx.store.write(() => {
    const subnet = resolveSubnet(db, input.subnet)
    insertPool(db, {...record, subnet_id: subnet.id})
    return getPool(db, record.id)!
  })
}

export function listAllPools(ctx: AppContext): Pool[] {
  return listPools(ctx.store.db)
}

export function showPool(ctx: AppContext, ref: string): Pool {
  return resolvePool(ctx.store.db, ref)
}

export interface PoolUpdate {
  name?: unknown
  description?: unknown
  lb_method?: unknown
  admin_state_up?: unknown
}

export async function updatePool(ctx: AppContext, ref: string, update: PoolUpdate): Promise<Pool> {
  const changes: PoolChanges = {
    name: update.name === undefined ? undefined : displayName(update.name),
    description: update.description === undefined ? undefined : freeText('description', update.description),
    lb_method: update.lb_method === undefined ? undefined : lbMethod(update.lb_method),
    admin_state_up: update.admin_state_up === undefined ? undefined : bool('admin_state_up', update.admin_state_up),
  }
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new ValidationError('update', 'nothing to update: give at least one of --name, --description, --lb-method, --admin-state-up')
  }
  const {db} = ctx.store
  const pool = ctx.store.write(() => {
    const found = resolvePool(db, ref)
    updatePoolRow(db, found.id, changes)
    if (found.vip_id) setPoolStatus(db, found.id, 'PENDING_UPDATE')
    return found
  })
  if (pool.vip_id) await applyPool(ctx, pool.id, {pool: true})
  return getPool(db, pool.id)!
}

/** Refuses while a VIP uses the pool; otherwise removes its members and associations too. */
export async function deletePool(ctx: AppContext, ref: string): Promise<Pool> {
  const {db} = ctx.store
  const pool = ctx.store.write(() => {
    const found = resolvePool(db, ref)
    if (found.vip_id) {
      throw new ConflictError('in_use', `pool ${found.name} is in use by VIP ${found.vip_id}`, 'delete the VIP first: `lbaas vip delete`')
    }
    deletePoolRow(db, found.id)
    return found
  })
  // Leftovers of an earlier failed undeploy, if any.
  await ctx.withPoolLock(pool.id, () => ctx.executorFor(pool).undeploy(pool.id))
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
