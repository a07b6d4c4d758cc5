import {randomUUID} from 'node:crypto'

import {ConflictError, NotAssociatedError, NotFoundError, ValidationError} from '../domain/errors.js'
import type {Monitor} from '../domain/types.js'
import {
  bool,
  delay,
  expectedCodes,
  httpMethod,
  maxRetries,
  monitorName,
  monitorType,
  timeout,
  timeoutWithinDelay,
  urlPath,
} from '../domain/validation.js'
import {
  deleteAssociationRow,
  deleteMonitorRow,
  findMonitorsByName,
  getAssociation,
  getMonitor,
  insertAssociation,
  insertMonitor,
  listAssociations,
  listMonitors,
  setAssociationStatus,
  updateMonitorRow,
  type MonitorChanges,
} from '../store/monitors.js'
import type {Db} from '../store/db.js'
import {getPool} from '../store/pools.js'
import {applyPool} from './apply.js'
import type {AppContext} from './context.js'
import {resolveMonitor, resolvePool} from './resolve.js'

export interface MonitorInput {
  name?: unknown
  type: unknown
  delay: unknown
  timeout: unknown
  max_retries: unknown
  http_method?: unknown
  url_path?: unknown
  expected_codes?: unknown
  admin_state_up?: unknown
}

export async function createMonitor(ctx: AppContext, input: MonitorInput): Promise<Monitor> {
  const record = {
    id: randomUUID(),
    name: input.name === undefined || input.name === null ? null : monitorName(input.name),
    type: monitorType(input.type),
    delay: delay(input.delay),
    timeout: timeout(input.timeout),
    max_retries: maxRetries(input.max_retries),
    http_method: input.http_method === undefined ? 'GET' : httpMethod(input.http_method),
    url_path: input.url_path === undefined ? '/' : urlPath(input.url_path),
    expected_codes: input.expected_codes === undefined ? '200' : expectedCodes(input.expected_codes),
    admin_state_up: input.admin_state_up === undefined ? true : bool('admin_state_up', input.admin_state_up),
  }
  timeoutWithinDelay(record.timeout, record.delay)
  const {db} = ctx.store
  // A monitor is shared state: nothing to deploy until it is associated (SPEC §3).
  return ctx.store.write(() => {
    if (record.name !== null) requireFreeMonitorName(db, record.name)
    insertMonitor(db, record)
    return getMonitor(db, record.id)!
  })
}

/** Monitor names are unique when set (SPEC §1). */
export function requireFreeMonitorName(db: Db, name: string, exceptId?: string): void {
  const clash = findMonitorsByName(db, name).find((monitor) => monitor.id !== exceptId)
  if (clash) throw new ConflictError('duplicate_name', `a monitor named ${name} already exists (${clash.id})`, 'try `lbaas monitor list`')
}

export function listAllMonitors(ctx: AppContext): Monitor[] {
  return listMonitors(ctx.store.db)
}

export function showMonitor(ctx: AppContext, ref: string): Monitor {
  return resolveMonitor(ctx.store.db, ref)
}

export type MonitorUpdate = Omit<Partial<MonitorInput>, 'type'>

/** Redeploys every deployed pool the monitor serves. */
export async function updateMonitor(ctx: AppContext, ref: string, update: MonitorUpdate): Promise<Monitor> {
  const changes: MonitorChanges = {
    name: update.name === undefined ? undefined : monitorName(update.name),
    delay: update.delay === undefined ? undefined : delay(update.delay),
    timeout: update.timeout === undefined ? undefined : timeout(update.timeout),
    max_retries: update.max_retries === undefined ? undefined : maxRetries(update.max_retries),
    http_method: update.http_method === undefined ? undefined : httpMethod(update.http_method),
    url_path: update.url_path === undefined ? undefined : urlPath(update.url_path),
    expected_codes: update.expected_codes === undefined ? undefined : expectedCodes(update.expected_codes),
    admin_state_up: update.admin_state_up === undefined ? undefined : bool('admin_state_up', update.admin_state_up),
  }
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new ValidationError(
      'update',
      'nothing to update: give at least one of --name, --delay, --timeout, --max-retries, --http-method, --url-path, --expected-codes, --admin-state-up',
    )
  }
  const {db} = ctx.store
  const {monitor, deployedPools} = ctx.store.write(() => {
    const found = resolveMonitor(db, ref)
    // The cross-field rule holds for the result, taking the missing side from the stored monitor.
    timeoutWithinDelay(changes.timeout ?? found.timeout, changes.delay ?? found.delay)
    if (changes.name) requireFreeMonitorName(db, changes.name, found.id)
    updateMonitorRow(db, found.id, changes)
    const pools: string[] = []
    // A new name alone changes nothing HAProxy sees.
    const renameOnly = Object.entries(changes).every(([field, value]) => field === 'name' || value === undefined)
    for (const association of renameOnly ? [] : listAssociations(db, {monitorId: found.id})) {
      // Being disassociated: that command's deploy settles it; PENDING_UPDATE would undo it.
      if (association.status === 'PENDING_DELETE') continue
      if (getPool(db, association.pool_id)?.vip_id) {
        setAssociationStatus(db, association.pool_id, found.id, 'PENDING_UPDATE')
        pools.push(association.pool_id)
      } else if (association.status === 'ERROR') {
        setAssociationStatus(db, association.pool_id, found.id, 'ACTIVE')
      }
    }
    return {monitor: found, deployedPools: pools}
  })
  const failures: unknown[] = []
  for (const poolId of deployedPools) {
    try {
      await applyPool(ctx, poolId, {monitorIds: [monitor.id]})
    } catch (error) {
      failures.push(error)
    }
  }
  if (failures.length > 0) throw failures[0]
  return stillThere(ctx, monitor.id)
}

export async function deleteMonitor(ctx: AppContext, ref: string): Promise<Monitor> {
  const {db} = ctx.store
  return ctx.store.write(() => {
    const monitor = resolveMonitor(db, ref)
    if (monitor.pools.length > 0) {
      throw new ConflictError(
        'in_use',
        `monitor ${monitor.id} is associated with pools ${monitor.pools.map((ref) => ref.pool_id).join(', ')}`,
        `disassociate it first: ${monitor.pools.map((ref) => `\`lbaas monitor disassociate ${monitor.id} ${ref.pool_id}\``).join(', ')}`,
      )
    }
    deleteMonitorRow(db, monitor.id)
    return monitor
  })
}

export async function associateMonitor(ctx: AppContext, monitorRef: string, poolRef: string): Promise<Monitor> {
  const {db} = ctx.store
  const {monitor, pool} = ctx.store.write(() => {
    const found = resolveMonitor(db, monitorRef)
    const target = resolvePool(db, poolRef)
    if (getAssociation(db, target.id, found.id)) {
      throw new ConflictError('already_associated', `monitor ${found.id} is already associated with pool ${target.name}`)
    }
    insertAssociation(db, target.id, found.id, target.vip_id ? 'PENDING_CREATE' : 'ACTIVE')
    return {monitor: found, pool: target}
  })
  if (pool.vip_id) await applyPool(ctx, pool.id, {monitorIds: [monitor.id]})
  return stillThere(ctx, monitor.id)
}

export async function disassociateMonitor(ctx: AppContext, monitorRef: string, poolRef: string): Promise<Monitor> {
  const {db} = ctx.store
  const {monitor, pool} = ctx.store.write(() => {
    const found = resolveMonitor(db, monitorRef)
    const target = resolvePool(db, poolRef)
    if (!getAssociation(db, target.id, found.id)) {
      throw new NotAssociatedError(found.id, target.name)
    }
    if (target.vip_id) setAssociationStatus(db, target.id, found.id, 'PENDING_DELETE')
    else deleteAssociationRow(db, target.id, found.id)
    return {monitor: found, pool: target}
  })
  if (pool.vip_id) await applyPool(ctx, pool.id, {monitorIds: [monitor.id]})
  return stillThere(ctx, monitor.id)
}

/** The monitor after a command's deploys; a concurrent `monitor delete` may have removed it meanwhile. */
function stillThere(ctx: AppContext, id: string): Monitor {
  const monitor = getMonitor(ctx.store.db, id)
  if (!monitor) throw new NotFoundError('monitor', id, 'another command deleted it while this one ran')
  return monitor
}
