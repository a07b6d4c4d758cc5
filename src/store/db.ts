/**
 * The state file: one SQLite database opened with better-sqlite3.
 *
 * Contract: `openStore` creates the file 0600 in a 0700 directory when missing, applies
 * pending migrations inside one `BEGIN IMMEDIATE` transaction (so concurrent first runs
 * are safe), and refuses a schema newer than this binary knows. Writers use
 * `store.write(fn)`, which runs `fn` in `BEGIN IMMEDIATE`: two processes writing at once
 * wait for each other (busy_timeout) instead of failing with "database is locked".
 */
import Database from 'better-sqlite3'
import {chmodSync, closeSync, openSync, statSync} from 'node:fs'
import {dirname} from 'node:path'

import {RuntimeFailure} from '../domain/errors.js'
import {makePrivateDirs} from '../util/fs.js'
import {MIGRATIONS} from './migrations.js'

export type Db = Database.Database

export interface Store {
  readonly db: Db
  readonly path: string
  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE). */
  write<T>(fn: () => T): T
  /** Runs `fn` in one read transaction, so it sees one snapshot. */
  read<T>(fn: () => T): T
  close(): void
}

const BUSY_TIMEOUT_MS = 30_000

export function openStore(path: string): Store {
  prepareFile(path)
  let db: Db
  try {
    db = new Database(path, {timeout: BUSY_TIMEOUT_MS})
  } catch (error) {
    throw new RuntimeFailure('state_unavailable', `cannot open the state file ${path}: ${(error as Error).message}`)
  }
  try {
    // busy_timeout first: switching to WAL needs a lock another process may hold.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    migrate(db, path)
  } catch (error) {
    db.close()
    if (error instanceof RuntimeFailure) throw error
    throw new RuntimeFailure('state_unavailable', `cannot use the state file ${path}: ${(error as Error).message}`)
  }
  return {
    db,
    path,
    write: (fn) => db.transaction(fn).immediate(),
    read: (fn) => db.transaction(fn).deferred(),
    close: () => db.close(),
  }
}

function prepareFile(path: string): void {
  const directory = dirname(path)
  try {
    makePrivateDirs(directory)
    // Pre-create the file so SQLite never creates it with the umask's mode.
    closeSync(openSync(path, 'a', 0o600))
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const hint =
      code === 'EACCES' || code === 'EPERM'
        ? 'choose a writable path with --state or LBAAS_STATE'
        : code === 'EROFS'
          ? 'the file system is read-only; choose another --state path'
          : undefined
    throw new RuntimeFailure('state_unavailable', `cannot create the state file ${path}: ${(error as Error).message}`, hint)
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length

function migrate(db: Db, path: string): void {
  const current = () => db.pragma('user_version', {simple: true}) as number
  if (current() === SCHEMA_VERSION) return
  db.transaction(() => {
    const version = current()
    if (version > SCHEMA_VERSION) {
      throw new RuntimeFailure(
        'schema_too_new',
        `the state file ${path} has schema version ${version}, but this lbaas knows only up to ${SCHEMA_VERSION}`,
        'upgrade lbaas, or point --state at another file',
      )
    }
    for (let index = version; index < SCHEMA_VERSION; index++) db.exec(MIGRATIONS[index])
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}
