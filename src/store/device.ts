/**
 * The Libra device of a serve-worker host (one row) and its METRICS ledger. Call the
 * writers inside `store.write`.
 */
import type {Db} from './db.js'

export type DeviceState = 'NONE' | 'ACTIVE' | 'SUSPENDED' | 'DELETED'
export type DeviceMode = 'host' | 'namespace'

export interface DeviceRow {
  /** UUID naming the run-dir entry and, in namespace mode, the namespace `lbaas-<id>`. */
  id: string
  mode: DeviceMode
  subnet_id: string | null
  address: string | null
  state: DeviceState
  /** JSON of the DeviceSpec of the last accepted UPDATE; null after DELETE or before any UPDATE. */
  config: string | null
  updated_at: string
  metrics_end_us: number | null
}

export interface LedgerRow {
  protocol: 'http' | 'tcp'
  base: number
  last_raw: number
  reported: number
}

export function getDevice(db: Db): DeviceRow | undefined {
  return db.prepare('SELECT id, mode, subnet_id, address, state, config, updated_at, metrics_end_us FROM libra_device').get() as
    | DeviceRow
    | undefined
}

export function saveDevice(db: Db, row: DeviceRow): void {
  db.prepare(
    `INSERT INTO libra_device (singleton, id, mode, subnet_id, address, state, config, updated_at, metrics_end_us)
     VALUES (1, @id, @mode, @subnet_id, @address, @state, @config, @updated_at, @metrics_end_us)
     ON CONFLICT (singleton) DO UPDATE SET id = excluded.id, mode = excluded.mode, subnet_id = excluded.subnet_id,
       address = excluded.address, state = excluded.state, config = excluded.config, updated_at = excluded.updated_at,
       metrics_end_us = excluded.metrics_end_us`,
  ).run(row)
}

export function listLedger(db: Db): LedgerRow[] {
  return db.prepare('SELECT protocol, base, last_raw, reported FROM libra_metrics ORDER BY protocol').all() as LedgerRow[]
}

export function saveLedgerEntry(db: Db, row: LedgerRow): void {
  db.prepare(
    `INSERT INTO libra_metrics (protocol, base, last_raw, reported) VALUES (@protocol, @base, @last_raw, @reported)
     ON CONFLICT (protocol) DO UPDATE SET base = excluded.base, last_raw = excluded.last_raw, reported = excluded.reported`,
  ).run(row)
}
