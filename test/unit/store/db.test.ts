import Database from 'better-sqlite3'
import {statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {RuntimeFailure} from '../../../src/domain/errors.js'
import {SCHEMA_VERSION, openStore} from '../../../src/store/db.js'
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
