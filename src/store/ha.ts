/**
 * HA pools (SPEC §11). On a controller: `ha_pools` (router id, unique per subnet) and
 * `ha_peers` (which agent runs peer a and b, with what address). On an agent:
 * `ha_local_peers`, its own part in an HA pool it hosts. Call the writers inside `store.write`.
 */
import type {Db} from './db.js'

export type HaRole = 'a' | 'b'

export interface HaPeerRow {
  role: HaRole
  agent: string
  address: string
}

export interface HaPoolRow {
  pool_id: string
  subnet_id: string
  virtual_router_id: number
  peers: HaPeerRow[]
}

export interface HaLocalPeerRow {
  pool_id: string
  role: HaRole
  virtual_router_id: number
  address_a: string
  address_b: string
}

export function getHaPool(db: Db, poolId: string): HaPoolRow | undefined {
  const row = db.prepare('SELECT pool_id, subnet_id, virtual_router_id FROM ha_pools WHERE pool_id = ?').get(poolId) as
    | Omit<HaPoolRow, 'peers'>
    | undefined
  if (!row) return undefined
  const peers = db.prepare('SELECT role, agent, address FROM ha_peers WHERE pool_id = ? ORDER BY role').all(poolId) as HaPeerRow[]
  return {...row, peers}
}

export function insertHaPool(db: Db, row: HaPoolRow): void {
  db.prepare('INSERT INTO ha_pools (pool_id, subnet_id, virtual_router_id) VALUES (?, ?, ?)').run(row.pool_id, row.subnet_id, row.virtual_router_id)
  const insert = db.prepare('INSERT INTO ha_peers (pool_id, role, agent, address) VALUES (?, ?, ?, ?)')
  for (const peer of row.peers) insert.run(row.pool_id, peer.role, peer.agent, peer.address)
}

/** The pool is no longer an HA pool (its peers go with it). */
export function deleteHaPool(db: Db, poolId: string): void {
  db.prepare('DELETE FROM ha_peers WHERE pool_id = ?').run(poolId)
  db.prepare('DELETE FROM ha_pools WHERE pool_id = ?').run(poolId)
}

export function replaceHaPeer(db: Db, poolId: string, peer: HaPeerRow): void {
  db.prepare('UPDATE ha_peers SET agent = ?, address = ? WHERE pool_id = ? AND role = ?').run(peer.agent, peer.address, poolId, peer.role)
}

/** Router ids taken on a subnet. */
export function routerIdsOnSubnet(db: Db, subnetId: string): Set<number> {
  return new Set(db.prepare('SELECT virtual_router_id FROM ha_pools WHERE subnet_id = ?').pluck().all(subnetId) as number[])
}

/** Every HA peer address (they share the subnet with VIPs and members). */
export function haPeerAddresses(db: Db): Set<string> {
  return new Set(db.prepare('SELECT address FROM ha_peers').pluck().all() as string[])
}

export function getHaLocalPeer(db: Db, poolId: string): HaLocalPeerRow | undefined {
  return db.prepare('SELECT pool_id, role, virtual_router_id, address_a, address_b FROM ha_local_peers WHERE pool_id = ?').get(poolId) as
    | HaLocalPeerRow
    | undefined
}

export function saveHaLocalPeer(db: Db, row: HaLocalPeerRow): void {
  db.prepare(
    `INSERT INTO ha_local_peers (pool_id, role, virtual_router_id, address_a, address_b)
     VALUES (@pool_id, @role, @virtual_router_id, @address_a, @address_b)
     ON CONFLICT (pool_id) DO UPDATE SET role = excluded.role, virtual_router_id = excluded.virtual_router_id,
       address_a = excluded.address_a, address_b = excluded.address_b`,
  ).run(row)
}

export function deleteHaLocalPeer(db: Db, poolId: string): void {
  db.prepare('DELETE FROM ha_local_peers WHERE pool_id = ?').run(poolId)
}
