/**
 * `--state` pointing at a file that is not a state file. Found by the CLI fuzz test: a
 * hostile flag value smuggled in `--state=/etc/passwd`, and opening the state file made
 * /etc/passwd mode 0600 (it then failed, "file is not a database", with the harm done).
 * A file that is neither empty nor an SQLite database is now refused before anything
 * touches it.
 */
import {chmodSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {openStore} from '../../../src/store/db.js'
import {tempDir} from '../../helpers/tmp.js'
import {refusalOf} from '../../helpers/errors.js'

const dir = tempDir('lbaas-foreign-')
afterAll(() => dir.cleanup())

const failureOf = (path: string) => refusalOf(() => openStore(path).close())

describe('a --state that is not a state file', () => {
  it('is refused, and its mode and content are left as they were', () => {
    const path = join(dir.path, 'passwd')
    writeFileSync(path, 'root:x:0:0:root:/root:/bin/bash\n')
    chmodSync(path, 0o644)
    const failure = failureOf(path)
    expect([failure.code, failure.exit]).toEqual(['state_unavailable', 1])
    expect(failure.message).toMatch(/not an lbaas state file/)
    expect(statSync(path).mode & 0o777).toBe(0o644)
    expect(readFileSync(path, 'utf8')).toBe('root:x:0:0:root:/root:/bin/bash\n')
  })

  it('also through a symbolic link', () => {
    const target = join(dir.path, 'hosts')
    writeFileSync(target, '127.0.0.1 localhost\n')
    chmodSync(target, 0o644)
    const link = join(dir.path, 'state-link.db')
    symlinkSync(target, link)
    expect(failureOf(link).code).toBe('state_unavailable')
    expect(statSync(target).mode & 0o777).toBe(0o644)
  })

  it('a new path, an empty file and an existing state file still open (and become 0600)', () => {
    const fresh = join(dir.path, 'new', 'state.db')
    openStore(fresh).close()
    expect(statSync(fresh).mode & 0o777).toBe(0o600)
    const empty = join(dir.path, 'empty.db')
    writeFileSync(empty, '')
    chmodSync(empty, 0o644)
    openStore(empty).close()
    expect(statSync(empty).mode & 0o777).toBe(0o600)
    chmodSync(fresh, 0o644)
    openStore(fresh).close()
    expect(statSync(fresh).mode & 0o777).toBe(0o600)
  })
})
