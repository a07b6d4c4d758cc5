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
import {accessSync, chmodSync, closeSync, constants, openSync, readSync, statfsSync, statSync} from 'node:fs'
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
    throw stateFailure(path, 'open', error)
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
    throw stateFailure(path, 'use', error)
  }
  return {
    db,
    path,
    write: (fn) => guarded(path, 'write to', () => db.transaction(fn).immediate()),
    read: (fn) => guarded(path, 'read', () => db.transaction(fn).deferred()),
    close: () => db.close(),
  }
}

const STORAGE_FAILURE = /^(SQLITE_(FULL|READONLY|IOERR|CANTOPEN)|ENOSPC|EROFS|EDQUOT|EIO)/

/** Runs `work`, turning the storage's failures (not the work's own errors) into stateFailure. */
function guarded<T>(path: string, action: string, work: () => T): T {
  try {
    return work()
  } catch (error) {
    if (STORAGE_FAILURE.test((error as {code?: unknown}).code as string)) throw stateFailure(path, action, error)
    throw error
  }
}

function fileSystemFull(directory: string): boolean {
  try {
    const stats = statfsSync(directory)
    // Root may use the blocks reserved for it; everyone else only the available ones.
    const blocks = process.getuid?.() === 0 ? stats.bfree : stats.bavail
    return blocks === 0 || stats.ffree === 0
  } catch {
    return false
  }
}

function fileSystemReadOnly(directory: string): boolean {
  try {
    accessSync(directory, constants.W_OK)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS'
  }
}

/**
 * A failure of the state file as an error an operator can act on. SQLite reports a full
 * or read-only file system in several ways (SQLITE_FULL, SQLITE_READONLY, or an I/O error
 * when it cannot size its shared-memory file), so the file system is asked which it was.
 * A failed write changes nothing: its transaction is rolled back.
 */
export function stateFailure(path: string, action: string, error: unknown): RuntimeFailure {
  if (error instanceof RuntimeFailure) return error
  const code = String((error as {code?: unknown}).code ?? '')
  const message = (error as Error).message
  const directory = dirname(path)
  const ioError = code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'EIO'
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || (ioError && fileSystemFull(directory))) {
    return new RuntimeFailure(
      'state_disk_full',
      `cannot ${action} the state file ${path}: the file system holding it is full (${message})`,
      `free space on the file system of ${directory}; the state file was left as it was (run \`lbaas sync\` afterwards if a command was cut short)`,
    )
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || (ioError && fileSystemReadOnly(directory))) {
    return new RuntimeFailure(
      'state_read_only',
      `cannot ${action} the state file ${path}: it is on a read-only file system or not writable (${message})`,
      'remount its file system read-write, or choose another --state path',
    )
  }
  if (ioError && code !== 'SQLITE_CANTOPEN') {
    return new RuntimeFailure('state_io_error', `cannot ${action} the state file ${path}: ${message}`, 'check the disk it is on (dmesg)')
  }
  return new RuntimeFailure('state_unavailable', `cannot ${action} the state file ${path}: ${message}`)
}

function prepareFile(path: string): void {
  const directory = dirname(path)
  try {
    makePrivateDirs(directory)
    // Pre-create the file so SQLite never creates it with the umask's mode.
    closeSync(openSync(path, 'a', 0o600))
    // Only ever tighten the mode of a state file: `--state /etc/passwd` or `--state /dev/null`
    // must fail without touching the file.
    refuseForeignFile(path)
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
  } catch (error) {
    if (error instanceof RuntimeFailure) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EROFS' || code === 'ENOSPC' || code === 'EDQUOT') throw stateFailure(path, 'open', error)
    const hint = code === 'EACCES' || code === 'EPERM' ? 'choose a writable path with --state or LBAAS_STATE' : undefined
    throw new RuntimeFailure('state_unavailable', `cannot create the state file ${path}: ${(error as Error).message}`, hint)
  }
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/** Throws unless `path` is a regular file that is empty (just created) or an SQLite database. */
function refuseForeignFile(path: string): void {
  const notState = (what: string) =>
    new RuntimeFailure('state_unavailable', `${path} is not an lbaas state file (${what}); it was left as it was`, 'point --state at an lbaas state file, or at a new path')
  if (!statSync(path).isFile()) throw notState('not a regular file')
  const header = Buffer.alloc(SQLITE_HEADER.length)
  const fd = openSync(path, 'r')
  let read: number
  try {
    read = readSync(fd, header, 0, header.length, 0)
  } finally {
    closeSync(fd)
  }
  if (read > 0 && !(read === header.length && header.equals(SQLITE_HEADER))) throw notState('not an SQLite database')
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
