import {mkdirSync, writeFileSync} from 'node:fs'
import {afterEach, describe, expect, it} from 'vitest'

import {acquireLock, liveLockHolder} from '../../../src/host/lock.js'
import {selfIdentity} from '../../../src/host/proc.js'
import {tempDir} from '../../helpers/tmp.js'

const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()))

function lockPath(): string {
  const dir = tempDir()
  cleanups.push(dir.cleanup)
  mkdirSync(`${dir.path}/locks`)
  return `${dir.path}/locks/pool.lock`
}

describe('liveLockHolder', () => {
  it('names the live holder of a lock file as acquireLock writes it (PID STARTTIME TOKEN)', async () => {
    const path = lockPath()
    expect(liveLockHolder(path)).toBeUndefined()
    const lock = await acquireLock(path, 'test')
    expect(liveLockHolder(path)).toEqual({pid: process.pid, startTime: selfIdentity().startTime})
    lock.release()
    expect(liveLockHolder(path)).toBeUndefined()
  })

  it('ignores a lock left by a dead process (a recycled PID does not count) and garbage', () => {
    const path = lockPath()
    writeFileSync(path, `${process.pid} ${selfIdentity().startTime + 1} abcdef\n`)
    expect(liveLockHolder(path)).toBeUndefined()
    writeFileSync(path, 'not a lock\n')
    expect(liveLockHolder(path)).toBeUndefined()
  })
})
