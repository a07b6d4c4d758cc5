import type {RawCounters} from '../executor/port.js'
import type {Db} from './db.js'

export type {RawCounters}

/** A pool's counter ledger as stored: the base (workers already folded in) and the current worker's last reading. */
export interface StatsRow {
  base_bytes_in: number
  base_bytes_out: number
  base_connections: number
  raw_bytes_in: number
  raw_bytes_out: number
  raw_connections: number
  active_connections: number
}

export type CumulativeCounters = RawCounters

function readRow(db: Db, poolId: string): StatsRow {
  return (
    (db.prepare('SELECT * FROM pool_stats WHERE pool_id = ?').get(poolId) as StatsRow | undefined) ?? {
      base_bytes_in: 0,
      base_bytes_out: 0,
      base_connections: 0,
      raw_bytes_in: 0,
      raw_bytes_out: 0,
      raw_connections: 0,
      active_connections: 0,
    }
  )
}

/** The totals a ledger records: its base plus its last reading. */
export const recordedTotals = (row: StatsRow): CumulativeCounters => ({
  bytes_in: row.base_bytes_in + row.raw_bytes_in,
  bytes_out: row.base_bytes_out + row.raw_bytes_out,
  total_connections: row.base_connections + row.raw_connections,
  active_connections: row.active_connections,
})

/** The pool's ledger as stored (all zero when it has none yet). */
export function counterLedger(db: Db, poolId: string): StatsRow {
  return readRow(db, poolId)
}

export function sameLedger(a: StatsRow, b: StatsRow): boolean {
  return (
    a.base_bytes_in === b.base_bytes_in &&
    a.base_bytes_out === b.base_bytes_out &&
    a.base_connections === b.base_connections &&
    a.raw_bytes_in === b.raw_bytes_in &&
    a.raw_bytes_out === b.raw_bytes_out &&
    a.raw_connections === b.raw_connections
  )
}

/**
 * Totals from a ledger and a live reading, without recording anything (`lbaas metrics`,
 * docs/observability.md). Only sound when the ledger did not change while `raw` was read (the
 * caller reads it before and after): the base then holds no count of the worker that
 * answered, which is the ledger's current worker or, after a reload whose fold is not yet
 * written, its successor. Each counter is base + max(last reading, live): the current
 * worker's figure never below what was recorded of it, and a successor's (counting from 0)
 * never added on top of its predecessor's, so nothing is counted twice and nothing falls
 * below a total already recorded.
 */
export function totalsWithLiveReading(row: StatsRow, raw: RawCounters): CumulativeCounters {
  return {
    bytes_in: row.base_bytes_in + Math.max(row.raw_bytes_in, raw.bytes_in),
    bytes_out: row.base_bytes_out + Math.max(row.raw_bytes_out, raw.bytes_out),
    total_connections: row.base_connections + Math.max(row.raw_connections, raw.total_connections),
    active_connections: raw.active_connections,
  }
}

/** The last persisted totals, for a pool whose HAProxy is not running or not readable. */
export function storedCounters(db: Db, poolId: string): CumulativeCounters {
  return recordedTotals(readRow(db, poolId))
}

/**
 * Folds a fresh reading into the totals. A counter lower than the last reading means
 * HAProxy restarted or reloaded since: the last reading joins the base, so totals never
 * go backwards. Call inside a write transaction.
 */
export function recordCounters(db: Db, poolId: string, raw: RawCounters): CumulativeCounters {
  const row = readRow(db, poolId)
  const restarted =
    raw.bytes_in < row.raw_bytes_in || raw.bytes_out < row.raw_bytes_out || raw.total_connections < row.raw_connections
  const next: StatsRow = restarted
    ? {
        base_bytes_in: row.base_bytes_in + row.raw_bytes_in,
        base_bytes_out: row.base_bytes_out + row.raw_bytes_out,
        base_connections: row.base_connections + row.raw_connections,
        raw_bytes_in: raw.bytes_in,
        raw_bytes_out: raw.bytes_out,
        raw_connections: raw.total_connections,
        active_connections: raw.active_connections,
      }
    : {
        ...row,
        raw_bytes_in: raw.bytes_in,
        raw_bytes_out: raw.bytes_out,
        raw_connections: raw.total_connections,
        active_connections: raw.active_connections,
      }
  db.prepare(
    `INSERT INTO pool_stats (pool_id, base_bytes_in, base_bytes_out, base_connections, raw_bytes_in, raw_bytes_out, raw_connections, active_connections)
     VALUES (@pool_id, @base_bytes_in, @base_bytes_out, @base_connections, @raw_bytes_in, @raw_bytes_out, @raw_connections, @active_connections)
     ON CONFLICT (pool_id) DO UPDATE SET base_bytes_in = excluded.base_bytes_in, base_bytes_out = excluded.base_bytes_out,
       base_connections = excluded.base_connections, raw_bytes_in = excluded.raw_bytes_in, raw_bytes_out = excluded.raw_bytes_out,
       raw_connections = excluded.raw_connections, active_connections = excluded.active_connections`,
  ).run({...next, pool_id: poolId})
  return recordedTotals(next)
}

/**
 * Adds what a replaced HAProxy worker served after its snapshot (its final counters minus
 * the snapshot, read by the counter keeper) to the pool's totals. Additive, so it is right
 * whatever readings were recorded meanwhile. No row (the pool was deleted): nothing to do.
 * Call inside a write transaction.
 */
export function addToCounterBase(db: Db, poolId: string, delta: RawCounters): void {
  db.prepare(
    `UPDATE pool_stats SET base_bytes_in = base_bytes_in + ?, base_bytes_out = base_bytes_out + ?,
       base_connections = base_connections + ? WHERE pool_id = ?`,
  ).run(delta.bytes_in, delta.bytes_out, delta.total_connections, poolId)
}
