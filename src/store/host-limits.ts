/**
 * The host limits rendering depends on (SPEC §4.5 "Deterministic"), recorded in the state
 * file: one row. Call the writer inside `store.write`.
 */
import type {Db} from './db.js'

export interface RecordedHostLimits {
  /** The open-file hard limit HAProxy is rendered for; Infinity when unlimited. */
  openFilesHard: number
  recordedAt: string
}

export function recordedHostLimits(db: Db): RecordedHostLimits | undefined {
  const row = db.prepare('SELECT open_files_hard, recorded_at FROM host_limits').get() as
    | {open_files_hard: number | null; recorded_at: string}
    | undefined
  return row && {openFilesHard: row.open_files_hard ?? Infinity, recordedAt: row.recorded_at}
}

/** Records the limit; `replace` false keeps a limit recorded earlier (first use wins). */
export function recordHostLimits(db: Db, openFilesHard: number, replace: boolean): void {
  const value = openFilesHard === Infinity ? null : openFilesHard
  db.prepare(
    `INSERT INTO host_limits (singleton, open_files_hard, recorded_at) VALUES (1, ?, ?)
     ON CONFLICT (singleton) DO ${replace ? 'UPDATE SET open_files_hard = excluded.open_files_hard, recorded_at = excluded.recorded_at' : 'NOTHING'}`,
  ).run(value, new Date().toISOString())
}
