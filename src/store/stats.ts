import type {RawCounters} from '../executor/port.js'
import type {Db} from './db.js'

export type {RawCounters}

interface StatsRow {
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

const cumulative = (row: StatsRow): CumulativeCounters => ({
  bytes_in: row.base_bytes_in + row.raw_bytes_in,
  bytes_out: row.base_bytes_out + row.raw_bytes_out,
  total_connections: row.base_connections + row.raw_connections,
  active_connections: row.active_connections,
})

/** The last persisted totals, for a pool whose HAProxy is not running or not readable. */
export function storedCounters(db: Db, poolId: string): CumulativeCounters {
  return cumulative(readRow(db, poolId))
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
  return cumulative(next)
}
