import Database from 'better-sqlite3'
import {statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {RuntimeFailure} from '../../../src/domain/errors.js'
import {SCHEMA_VERSION, openStore, stateFailure} from '../../../src/store/db.js'
import {tempDir} from '../../helpers/tmp.js'

const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()))

function freshDir(): string {
  const dir = tempDir()
  cleanups.push(dir.cleanup)
  return dir.path
}

describe('openStore', () => {
  it('creates the file 0600 in a 0700 directory, in WAL mode with foreign keys', () => {
    const path = join(freshDir(), 'nested', 'state.db')
    const store = openStore(path)
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700)
      expect(store.db.pragma('journal_mode', {simple: true})).toBe('wal')
      expect(store.db.pragma('foreign_keys', {simple: true})).toBe(1)
      expect(store.db.pragma('user_version', {simple: true})).toBe(SCHEMA_VERSION)
    } finally {
      store.close()
    }
  })

  it('reopens an existing file without migrating again', () => {
    const path = join(freshDir(), 'state.db')
    openStore(path).close()
    const store = openStore(path)
    expect(store.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pools'").pluck().get()).toBe(1)
    store.close()
  })

  it('refuses a schema newer than it knows, and leaves the file alone', () => {
    const path = join(freshDir(), 'state.db')
    const raw = new Database(path)
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    raw.close()
    let caught: unknown
    try {
      openStore(path)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(RuntimeFailure)
    expect((caught as RuntimeFailure).code).toBe('schema_too_new')
    const check = new Database(path)
    expect(check.pragma('user_version', {simple: true})).toBe(SCHEMA_VERSION + 1)
    check.close()
  })

  it('explains an unusable path', () => {
    const dir = freshDir()
    writeFileSync(join(dir, 'file'), '')
    expect(() => openStore(join(dir, 'file', 'state.db'))).toThrow(/cannot create the state file/)
  })
})

describe('stateFailure: storage failures an operator can act on', () => {
  const sqliteError = (code: string) => Object.assign(new Error('database or disk is full'), {code})

  it.each([
    ['SQLITE_FULL', 'state_disk_full'],
    ['ENOSPC', 'state_disk_full'],
    ['SQLITE_READONLY', 'state_read_only'],
    ['SQLITE_READONLY_DBMOVED', 'state_read_only'],
    ['EROFS', 'state_read_only'],
    // On a writable file system with room, an I/O error is just that.
    ['SQLITE_IOERR_WRITE', 'state_io_error'],
    ['SQLITE_CANTOPEN', 'state_unavailable'],
    ['SQLITE_MISUSE', 'state_unavailable'],
  ])('%s becomes %s (exit 1, with the path and a hint)', (code, expected) => {
    const failure = stateFailure(join(freshDir(), 'state.db'), 'write to', sqliteError(code))
    expect(failure).toBeInstanceOf(RuntimeFailure)
    expect([failure.code, failure.exit]).toEqual([expected, 1])
    expect(failure.message).toContain('state.db')
    if (expected !== 'state_unavailable') expect(failure.suggestion).toBeTruthy()
  })

  it("store.write passes the work's own errors through untouched, and rolls back", () => {
    const store = openStore(join(freshDir(), 'state.db'))
    try {
      const own = new RuntimeFailure('mine', 'thrown by the work')
      expect(() =>
        store.write(() => {
          store.db.exec("INSERT INTO subnets (id, name, cidr, gateway_ip, bridge, managed) VALUES ('a', 'a', '198.18.0.0/24', '198.18.0.1', 'br', 0)")
          throw own
        }),
      ).toThrow(own)
      expect(store.db.prepare('SELECT count(*) FROM subnets').pluck().get()).toBe(0)
    } finally {
      store.close()
    }
  })
})
