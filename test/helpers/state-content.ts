import {createHash} from 'node:crypto'
import {existsSync} from 'node:fs'
import Database from 'better-sqlite3'

/**
 * The state file's content, the audit trail aside: what "a refused command changes nothing"
 * is measured on. A refused state-changing command is recorded in `events` (SPEC §10) and
 * changes nothing else; SQLite's own bookkeeping (`sqlite_sequence` of that table) is left
 * out too. '(none)' when there is no state file (a refused command never creates one).
 */
export function stateContent(statePath: string): string {
  if (!existsSync(statePath)) return '(none)'
  const db = new Database(statePath, {readonly: true, fileMustExist: true})
  try {
    const hash = createHash('sha256')
    hash.update(`user_version ${String(db.pragma('user_version', {simple: true}))}\0`)
    const tables = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name <> 'events' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as {name: string; sql: string}[]
    for (const {name, sql} of tables) {
      hash.update(`${sql}\0`)
      for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).raw().iterate()) hash.update(`${JSON.stringify(row)}\0`)
    }
    return hash.digest('hex')
  } finally {
    db.close()
  }
}
