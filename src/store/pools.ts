import type {Pool, PoolOperatingStatus, ProvisioningStatus} from '../domain/types.js'
import {assignments} from './columns.js'
import type {Db} from './db.js'

interface PoolRow extends Omit<Pool, 'admin_state_up' | 'members' | 'health_monitors'> {
  admin_state_up: number
  /** JSON arrays, built by the query. */
  member_ids: string
  monitor_ids: string
}

const SELECT_POOLS = `
  SELECT p.id, p.name, p.description, p.subnet_id, p.protocol, p.lb_method, p.admin_state_up,
         p.status, p.status_description, p.operating_status, p.agent,
         (SELECT v.id FROM vips v WHERE v.pool_id = p.id) AS vip_id,
         (SELECT json_group_array(id) FROM (SELECT m.id FROM members m WHERE m.pool_id = p.id ORDER BY m.rowid)) AS member_ids,
         (SELECT json_group_array(monitor_id) FROM (SELECT a.monitor_id FROM associations a WHERE a.pool_id = p.id ORDER BY a.rowid)) AS monitor_ids
  FROM pools p`

function toPool(row: PoolRow): Pool {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    subnet_id: row.subnet_id,
    protocol: row.protocol,
    lb_method: row.lb_method,
    admin_state_up: row.admin_state_up === 1,
    status: row.status,
    status_description: row.status_description,
    operating_status: row.operating_status,
    vip_id: row.vip_id,
    members: JSON.parse(row.member_ids) as string[],
    health_monitors: JSON.parse(row.monitor_ids) as string[],
    agent: row.agent,
  }
}

/** What a new pool row holds; the rest of a Pool is derived (vip_id, members, …) or set later. */
export type PoolRecord = Omit<Pool, 'operating_status' | 'vip_id' | 'members' | 'health_monitors'>

export function insertPool(db: Db, pool: PoolRecord): void {
  db.prepare(
    `INSERT INTO pools (id, name, description, subnet_id, protocol, lb_method, admin_state_up, status, status_description, agent)
     VALUES (@id, @name, @description, @subnet_id, @protocol, @lb_method, @admin_state_up, @status, @status_description, @agent)`,
  ).run({...pool, admin_state_up: pool.admin_state_up ? 1 : 0})
  db.prepare('INSERT INTO pool_stats (pool_id) VALUES (?)').run(pool.id)
}

export function getPool(db: Db, id: string): Pool | undefined {
  const row = db.prepare(`${SELECT_POOLS} WHERE p.id = ?`).get(id) as PoolRow | undefined
  return row && toPool(row)
}

export function findPoolsByName(db: Db, name: string): Pool[] {
  return (db.prepare(`${SELECT_POOLS} WHERE p.name = ? ORDER BY p.rowid`).all(name) as PoolRow[]).map(toPool)
}

export function listPools(db: Db): Pool[] {
  return (db.prepare(`${SELECT_POOLS} ORDER BY p.rowid`).all() as PoolRow[]).map(toPool)
}

export type PoolChanges = Partial<Pick<PoolRecord, 'name' | 'description' | 'lb_method' | 'admin_state_up' | 'agent'>>

export function updatePoolRow(db: Db, id: string, changes: PoolChanges): void {
  const {sql, values} = assignments(changes, ['name', 'description', 'lb_method', 'admin_state_up', 'agent'])
  if (sql) db.prepare(`UPDATE pools SET ${sql} WHERE id = @id`).run({...values, id})
}

export function setPoolStatus(db: Db, id: string, status: ProvisioningStatus, description: string | null = null): void {
  db.prepare('UPDATE pools SET status = ?, status_description = ? WHERE id = ?').run(status, description, id)
}

export function setPoolOperatingStatus(db: Db, id: string, operating: PoolOperatingStatus): void {
  db.prepare('UPDATE pools SET operating_status = ? WHERE id = ?').run(operating, id)
}

export function deletePoolRow(db: Db, id: string): void {
  db.prepare('DELETE FROM pools WHERE id = ?').run(id)
}
