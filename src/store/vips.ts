import type {PersistenceType, ProvisioningStatus, SessionPersistence, Vip} from '../domain/types.js'
import {assignments} from './columns.js'
import type {Db} from './db.js'

interface VipRow extends Omit<Vip, 'session_persistence' | 'admin_state_up'> {
  persistence_type: PersistenceType | null
  cookie_name: string | null
  admin_state_up: number
}

const COLUMNS =
  'id, name, description, pool_id, subnet_id, address, protocol, protocol_port, connection_limit, persistence_type, cookie_name, admin_state_up, status, status_description'

function toVip(row: VipRow): Vip {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    pool_id: row.pool_id,
    subnet_id: row.subnet_id,
    address: row.address,
    protocol: row.protocol,
    protocol_port: row.protocol_port,
    connection_limit: row.connection_limit,
    session_persistence: persistenceOf(row.persistence_type, row.cookie_name),
    admin_state_up: row.admin_state_up === 1,
    status: row.status,
    status_description: row.status_description,
  }
}

function persistenceOf(type: PersistenceType | null, cookie: string | null): SessionPersistence | null {
  if (type === null) return null
  return type === 'APP_COOKIE' ? {type, cookie_name: cookie ?? ''} : {type}
}

function persistenceColumns(persistence: SessionPersistence | null | undefined) {
  if (persistence === undefined) return {}
  return {
    persistence_type: persistence?.type ?? null,
    cookie_name: persistence?.type === 'APP_COOKIE' ? persistence.cookie_name : null,
  }
}

export function insertVip(db: Db, vip: Vip): void {
  const {session_persistence: persistence, ...rest} = vip
  db.prepare(
    `INSERT INTO vips (${COLUMNS})
     VALUES (@id, @name, @description, @pool_id, @subnet_id, @address, @protocol, @protocol_port, @connection_limit,
             @persistence_type, @cookie_name, @admin_state_up, @status, @status_description)`,
  ).run({...rest, ...persistenceColumns(persistence), admin_state_up: vip.admin_state_up ? 1 : 0})
}

export function getVip(db: Db, id: string): Vip | undefined {
  const row = db.prepare(`SELECT ${COLUMNS} FROM vips WHERE id = ?`).get(id) as VipRow | undefined
  return row && toVip(row)
}

export function getVipOfPool(db: Db, poolId: string): Vip | undefined {
  const row = db.prepare(`SELECT ${COLUMNS} FROM vips WHERE pool_id = ?`).get(poolId) as VipRow | undefined
  return row && toVip(row)
}

export function findVipsByName(db: Db, name: string): Vip[] {
  return (db.prepare(`SELECT ${COLUMNS} FROM vips WHERE name = ? ORDER BY rowid`).all(name) as VipRow[]).map(toVip)
}

export function listVips(db: Db): Vip[] {
  return (db.prepare(`SELECT ${COLUMNS} FROM vips ORDER BY rowid`).all() as VipRow[]).map(toVip)
}

export function vipAddressTaken(db: Db, address: string): boolean {
  return db.prepare('SELECT 1 FROM vips WHERE address = ?').get(address) !== undefined
}

/** Addresses in use that a new VIP on `subnetId` must avoid: other VIPs and pool members. */
export function addressesInUse(db: Db): Set<string> {
  const vipAddresses = db.prepare('SELECT address FROM vips').pluck().all() as string[]
  const memberAddresses = db.prepare('SELECT DISTINCT address FROM members').pluck().all() as string[]
  // HA peers hold addresses of their own on the VIP's subnet (SPEC §11).
  const peerAddresses = db.prepare('SELECT address FROM ha_peers').pluck().all() as string[]
  return new Set([...vipAddresses, ...memberAddresses, ...peerAddresses])
}

export type VipChanges = Partial<
  Pick<Vip, 'name' | 'description' | 'pool_id' | 'connection_limit' | 'admin_state_up' | 'session_persistence'>
>

export function updateVipRow(db: Db, id: string, changes: VipChanges): void {
  const {session_persistence: persistence, ...rest} = changes
  const {sql, values} = assignments({...rest, ...persistenceColumns(persistence)}, [
    'name',
    'description',
    'pool_id',
    'connection_limit',
    'admin_state_up',
    'persistence_type',
    'cookie_name',
  ])
  if (sql) db.prepare(`UPDATE vips SET ${sql} WHERE id = @id`).run({...values, id})
}

export function setVipStatus(db: Db, id: string, status: ProvisioningStatus, description: string | null = null): void {
  db.prepare('UPDATE vips SET status = ?, status_description = ? WHERE id = ?').run(status, description, id)
}

export function deleteVipRow(db: Db, id: string): void {
  db.prepare('DELETE FROM vips WHERE id = ?').run(id)
}
