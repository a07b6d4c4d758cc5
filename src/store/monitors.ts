import type {Association, Monitor, ProvisioningStatus} from '../domain/types.js'
import {assignments} from './columns.js'
import type {Db} from './db.js'

type MonitorRecord = Omit<Monitor, 'pools'>

interface MonitorRow extends Omit<MonitorRecord, 'admin_state_up'> {
  admin_state_up: number
  pool_refs: string
}

const SELECT_MONITORS = `
  SELECT m.id, m.name, m.type, m.delay, m.timeout, m.max_retries, m.http_method, m.url_path, m.expected_codes, m.admin_state_up,
         (SELECT json_group_array(json_object('pool_id', pool_id, 'status', status))
            FROM (SELECT a.pool_id, a.status FROM associations a WHERE a.monitor_id = m.id ORDER BY a.rowid)) AS pool_refs
  FROM monitors m`

function toMonitor(row: MonitorRow): Monitor {
  const {pool_refs: poolRefs, admin_state_up: adminUp, ...rest} = row
  return {...rest, admin_state_up: adminUp === 1, pools: JSON.parse(poolRefs)}
}

export function insertMonitor(db: Db, monitor: MonitorRecord): void {
  db.prepare(
    `INSERT INTO monitors (id, name, type, delay, timeout, max_retries, http_method, url_path, expected_codes, admin_state_up)
     VALUES (@id, @name, @type, @delay, @timeout, @max_retries, @http_method, @url_path, @expected_codes, @admin_state_up)`,
  ).run({...monitor, admin_state_up: monitor.admin_state_up ? 1 : 0})
}

export function getMonitor(db: Db, id: string): Monitor | undefined {
  const row = db.prepare(`${SELECT_MONITORS} WHERE m.id = ?`).get(id) as MonitorRow | undefined
  return row && toMonitor(row)
}

export function findMonitorsByName(db: Db, name: string): Monitor[] {
  return (db.prepare(`${SELECT_MONITORS} WHERE m.name = ? ORDER BY m.rowid`).all(name) as MonitorRow[]).map(toMonitor)
}

export function listMonitors(db: Db): Monitor[] {
  return (db.prepare(`${SELECT_MONITORS} ORDER BY m.rowid`).all() as MonitorRow[]).map(toMonitor)
}

export type MonitorChanges = Partial<
  Pick<MonitorRecord, 'name' | 'type' | 'delay' | 'timeout' | 'max_retries' | 'http_method' | 'url_path' | 'expected_codes' | 'admin_state_up'>
>

export function updateMonitorRow(db: Db, id: string, changes: MonitorChanges): void {
  const {sql, values} = assignments(changes, [
    'name',
    'type',
    'delay',
    'timeout',
    'max_retries',
    'http_method',
    'url_path',
    'expected_codes',
    'admin_state_up',
  ])
  if (sql) db.prepare(`UPDATE monitors SET ${sql} WHERE id = @id`).run({...values, id})
}

export function deleteMonitorRow(db: Db, id: string): void {
  db.prepare('DELETE FROM monitors WHERE id = ?').run(id)
}

// ---- associations ------------------------------------------------------------------

interface AssociationRow {
  pool_id: string
  monitor_id: string
  status: ProvisioningStatus
  status_description: string | null
  position: number
}

const SELECT_ASSOCIATIONS = 'SELECT pool_id, monitor_id, status, status_description, rowid AS position FROM associations'

export function insertAssociation(db: Db, poolId: string, monitorId: string, status: ProvisioningStatus): void {
  db.prepare('INSERT INTO associations (pool_id, monitor_id, status) VALUES (?, ?, ?)').run(poolId, monitorId, status)
}

export function getAssociation(db: Db, poolId: string, monitorId: string): Association | undefined {
  return db.prepare(`${SELECT_ASSOCIATIONS} WHERE pool_id = ? AND monitor_id = ?`).get(poolId, monitorId) as
    | AssociationRow
    | undefined
}

export function listAssociations(db: Db, filter: {poolId?: string; monitorId?: string} = {}): Association[] {
  if (filter.poolId) {
    return db.prepare(`${SELECT_ASSOCIATIONS} WHERE pool_id = ? ORDER BY rowid`).all(filter.poolId) as AssociationRow[]
  }
  if (filter.monitorId) {
    return db.prepare(`${SELECT_ASSOCIATIONS} WHERE monitor_id = ? ORDER BY rowid`).all(filter.monitorId) as AssociationRow[]
  }
  return db.prepare(`${SELECT_ASSOCIATIONS} ORDER BY rowid`).all() as AssociationRow[]
}

export function setAssociationStatus(
  db: Db,
  poolId: string,
  monitorId: string,
  status: ProvisioningStatus,
  description: string | null = null,
): void {
  db.prepare('UPDATE associations SET status = ?, status_description = ? WHERE pool_id = ? AND monitor_id = ?').run(
    status,
    description,
    poolId,
    monitorId,
  )
}

export function deleteAssociationRow(db: Db, poolId: string, monitorId: string): void {
  db.prepare('DELETE FROM associations WHERE pool_id = ? AND monitor_id = ?').run(poolId, monitorId)
}
