/**
 * The audit trail (SPEC §10): one row per state-changing command or agent job. Kept for
 * 90 days or 100,000 rows, whichever is less; pruned on insert through the indexes on
 * `time` and the primary key, so an insert stays cheap however full the table is.
 */
import type {Db} from './db.js'

export const EVENT_RETENTION_DAYS = 90
export const EVENT_RETENTION_ROWS = 100_000

export interface EventObject {
  type: string
  /** The object's id, when it is known (a refused command may only have what was typed). */
  id?: string
  name?: string
  /** What the command line named it, when nothing was resolved. */
  ref?: string
}

export interface AuditEvent {
  id: number
  time: string
  user: string
  source: 'cli' | 'worker'
  command: string
  argv: string[]
  objects: EventObject[]
  pool_id: string | null
  pool_name: string | null
  result: 'ok' | 'error'
  exit_code: number
  error: string | null
}

export type NewAuditEvent = Omit<AuditEvent, 'id'>

interface EventRow extends Omit<AuditEvent, 'argv' | 'objects'> {
  argv: string
  objects: string
}

export function insertEvent(db: Db, event: NewAuditEvent, limits = {days: EVENT_RETENTION_DAYS, rows: EVENT_RETENTION_ROWS}): number {
  const {lastInsertRowid} = db
    .prepare(
      `INSERT INTO events (time, user, source, command, argv, objects, pool_id, pool_name, result, exit_code, error)
       VALUES (@time, @user, @source, @command, @argv, @objects, @pool_id, @pool_name, @result, @exit_code, @error)`,
    )
    .run({...event, argv: JSON.stringify(event.argv), objects: JSON.stringify(event.objects)})
  const id = Number(lastInsertRowid)
  const oldest = new Date(Date.parse(event.time) - limits.days * 86_400_000).toISOString()
  db.prepare('DELETE FROM events WHERE time < ?').run(oldest)
  db.prepare('DELETE FROM events WHERE id <= ?').run(id - limits.rows)
  return id
}

export interface EventQuery {
  /** Events touching this pool id or, for pools since deleted, this pool name. */
  poolId?: string
  poolName?: string
  /** ISO time: only events at or after it. */
  since?: string
  /** Only the newest `limit`, still printed oldest first. */
  limit?: number
}

export function listEvents(db: Db, query: EventQuery = {}): AuditEvent[] {
  const where: string[] = []
  const params: Record<string, unknown> = {}
  if (query.poolId !== undefined || query.poolName !== undefined) {
    where.push('(pool_id = @poolId OR pool_name = @poolName)')
    params.poolId = query.poolId ?? null
    params.poolName = query.poolName ?? null
  }
  if (query.since !== undefined) {
    where.push('time >= @since')
    params.since = query.since
  }
  const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`
  const rows = db.prepare(sql).all({...params, limit: query.limit ?? -1}) as EventRow[]
  return rows.reverse().map((row) => ({...row, argv: JSON.parse(row.argv) as string[], objects: JSON.parse(row.objects) as EventObject[]}))
}
