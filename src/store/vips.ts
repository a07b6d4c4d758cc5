import type {PersistenceType, Protocol, ProvisioningStatus, SessionPersistence, Vip} from '../domain/types.js'
import {assignments} from './columns.js'
import type {Db} from './db.js'

interface VipRow extends Omit<Vip, 'session_persistence' | 'admin_state_up' | 'protocol' | 'default_cert' | 'sni_certs' | 'redirect_http'> {
  protocol: Protocol
  persistence_type: PersistenceType | null
  cookie_name: string | null
  admin_state_up: number
  tls_terminated: number
  default_cert_id: string | null
  redirect_http: number
  sni_cert_ids: string | null
}

const INSERT_COLUMNS =
  'id, name, description, pool_id, subnet_id, address, protocol, protocol_port, connection_limit, persistence_type, cookie_name, admin_state_up, status, status_description, tls_terminated, default_cert_id, redirect_http, syslog'

// SNI certificates in their order, as a JSON array (json_group_array keeps the ORDER BY of the subquery).
const COLUMNS = `${INSERT_COLUMNS},
  (SELECT json_group_array(cert_id) FROM (SELECT cert_id FROM vip_sni_certs s WHERE s.vip_id = vips.id ORDER BY position)) AS sni_cert_ids`

function toVip(row: VipRow): Vip {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    pool_id: row.pool_id,
    subnet_id: row.subnet_id,
    address: row.address,
    protocol: row.tls_terminated === 1 ? 'TERMINATED_HTTPS' : row.protocol,
    protocol_port: row.protocol_port,
    connection_limit: row.connection_limit,
    session_persistence: persistenceOf(row.persistence_type, row.cookie_name),
    default_cert: row.default_cert_id,
    sni_certs: row.sni_cert_ids ? (JSON.parse(row.sni_cert_ids) as string[]) : [],
    redirect_http: row.redirect_http === 1,
    syslog: row.syslog ?? null,
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

/** TERMINATED_HTTPS is stored as the pool's protocol (HTTP) plus `tls_terminated`. */
function protocolColumns(vip: Pick<Vip, 'protocol'>) {
  return vip.protocol === 'TERMINATED_HTTPS' ? {protocol: 'HTTP', tls_terminated: 1} : {protocol: vip.protocol, tls_terminated: 0}
}

export function insertVip(db: Db, vip: Vip): void {
  const {session_persistence: persistence, default_cert, sni_certs, redirect_http, ...rest} = vip
  db.prepare(
    `INSERT INTO vips (${INSERT_COLUMNS})
     VALUES (@id, @name, @description, @pool_id, @subnet_id, @address, @protocol, @protocol_port, @connection_limit,
             @persistence_type, @cookie_name, @admin_state_up, @status, @status_description,
             @tls_terminated, @default_cert_id, @redirect_http, @syslog)`,
  ).run({
    ...rest,
    ...persistenceColumns(persistence),
    ...protocolColumns(vip),
    default_cert_id: default_cert,
    redirect_http: redirect_http ? 1 : 0,
    admin_state_up: vip.admin_state_up ? 1 : 0,
  })
  setSniCerts(db, vip.id, sni_certs)
}

export function setSniCerts(db: Db, vipId: string, certIds: readonly string[]): void {
  db.prepare('DELETE FROM vip_sni_certs WHERE vip_id = ?').run(vipId)
  const insert = db.prepare('INSERT INTO vip_sni_certs (vip_id, cert_id, position) VALUES (?, ?, ?)')
  certIds.forEach((certId, position) => insert.run(vipId, certId, position))
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
  Pick<
    Vip,
    | 'name'
    | 'description'
    | 'pool_id'
    | 'subnet_id'
    | 'address'
    | 'protocol'
    | 'protocol_port'
    | 'connection_limit'
    | 'admin_state_up'
    | 'session_persistence'
    | 'default_cert'
    | 'sni_certs'
    | 'redirect_http'
    | 'syslog'
  >
>

export function updateVipRow(db: Db, id: string, changes: VipChanges): void {
  const {session_persistence: persistence, default_cert, sni_certs, redirect_http, protocol, ...rest} = changes
  const tls = {
    ...(protocol === undefined ? {} : protocolColumns({protocol})),
    ...(default_cert === undefined ? {} : {default_cert_id: default_cert}),
    ...(redirect_http === undefined ? {} : {redirect_http}),
  }
  const {sql, values} = assignments({...rest, ...persistenceColumns(persistence), ...tls}, [
    'name',
    'description',
    'pool_id',
    'subnet_id',
    'address',
    'protocol_port',
    'connection_limit',
    'admin_state_up',
    'persistence_type',
    'cookie_name',
    'default_cert_id',
    'redirect_http',
    'syslog',
    'protocol',
    'tls_terminated',
  ])
  if (sql) db.prepare(`UPDATE vips SET ${sql} WHERE id = @id`).run({...values, id})
  if (sni_certs !== undefined) setSniCerts(db, id, sni_certs)
}

/** Ids of the VIPs serving a certificate (as default or SNI), in VIP creation order. */
export function vipsUsingCert(db: Db, certId: string): string[] {
  return db
    .prepare(
      `SELECT id FROM vips WHERE default_cert_id = @certId
         OR id IN (SELECT vip_id FROM vip_sni_certs WHERE cert_id = @certId) ORDER BY rowid`,
    )
    .pluck()
    .all({certId}) as string[]
}

export function setVipStatus(db: Db, id: string, status: ProvisioningStatus, description: string | null = null): void {
  db.prepare('UPDATE vips SET status = ?, status_description = ? WHERE id = ?').run(status, description, id)
}

export function deleteVipRow(db: Db, id: string): void {
  db.prepare('DELETE FROM vips WHERE id = ?').run(id)
}
