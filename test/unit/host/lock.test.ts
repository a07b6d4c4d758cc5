import {setTimeout as sleep} from 'node:timers/promises'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'
import {ConflictError} from '../../../src/domain/errors.js'
import {acquireHostLock, acquirePoolLock, withPoolLock} from '../../../src/host/lock.js'
import {poolLockPath} from '../../../src/host/names.js'
import {selfIdentity} from '../../../src/host/proc.js'
import {tempDir} from '../../helpers/tmp.js'

const POOL = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab'
const OTHER_POOL = '11111111-2222-4333-8444-555555555555'
const dir = tempDir('lbaas-lock-')
afterAll(() => dir.cleanup())

let runDirCount = 0
function freshRunDir(): string {
  return `${dir.path}/run${++runDirCount}`
}

/** PID and start time of a process that has exited (and been reaped). */
function deadIdentity(): {pid: number; startTime: number} {
  const child = spawnSync(process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/stat','utf8'))"])
  const stat = child.stdout.toString()
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {pid: child.pid!, startTime: Number(fields[19])}
}

describe('pool lock', () => {
  it('is a 0600 file holding PID and start time, in a 0700 directory, removed on release', async () => {
    const runDir = freshRunDir()
    const lock = await acquirePoolLock(runDir, POOL)
    const path = poolLockPath(runDir, POOL)
    const me = selfIdentity()
    expect(readFileSync(path, 'utf8')).toMatch(new RegExp(`^${me.pid} ${me.startTime} [0-9a-f]+\\n$`))
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(`${runDir}/locks`).mode & 0o777).toBe(0o700)
    lock.release()
    expect(existsSync(path)).toBe(false)
    lock.release()
    expect(readdirSync(`${runDir}/locks`)).toEqual([])
  })

  it('serialises holders of one pool, also within one process', async () => {
    const runDir = freshRunDir()
    const events: string[] = []
    const hold = (name: string) =>
      withPoolLock(runDir, POOL, async () => {
        events.push(`${name} in`)
        await sleep(40)
        events.push(`${name} out`)
      })
    await Promise.all([hold('a'), hold('b'), hold('c')])
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i].replace(' in', '')).toBe(events[i + 1].replace(' out', ''))
    }
    expect(events).toHaveLength(6)
  })

  it('lets other pools run freely', async () => {
    const runDir = freshRunDir()
    const held = await acquirePoolLock(runDir, POOL)
    const other = await acquirePoolLock(runDir, OTHER_POOL, {timeoutMs: 0})
    other.release()
    held.release()
  })

  it('gives up with ConflictError lock_held naming the holder', async () => {
    const runDir = freshRunDir()
    const held = await acquirePoolLock(runDir, POOL)
    let waitedFor: number | undefined
    const attempt = acquirePoolLock(runDir, POOL, {timeoutMs: 100, onWait: (holder) => (waitedFor = holder.pid)})
    await expect(attempt).rejects.toBeInstanceOf(ConflictError)
    await expect(attempt).rejects.toMatchObject({code: 'lock_held', exit: 4, message: expect.stringContaining(`process ${process.pid}`)})
    expect(waitedFor).toBe(process.pid)
    held.release()
  })

  it('releases the lock when the work throws', async () => {
    const runDir = freshRunDir()
    await expect(withPoolLock(runDir, POOL, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(existsSync(poolLockPath(runDir, POOL))).toBe(false)
  })

  it.each([
    ['a dead owner', () => `${deadIdentity().pid} ${deadIdentity().startTime} abc\n`],
    ['a recycled PID (same PID, other start time)', () => `${process.pid} ${selfIdentity().startTime + 1} abc\n`],
    ['unreadable content', () => 'garbage'],
  ])('breaks a stale lock left by %s', async (_, content) => {
    const runDir = freshRunDir()
    const path = poolLockPath(runDir, POOL)
    mkdirSync(`${runDir}/locks`, {recursive: true})
    writeFileSync(path, content())
    const lock = await acquirePoolLock(runDir, POOL, {timeoutMs: 200})
    expect(readFileSync(path, 'utf8')).toMatch(new RegExp(`^${process.pid} `))
    lock.release()
    expect(readdirSync(`${runDir}/locks`)).toEqual([])
  })

  it('recovers from a breaker that died while breaking a stale lock', async () => {
    const runDir = freshRunDir()
    const path = poolLockPath(runDir, POOL)
    mkdirSync(`${runDir}/locks`, {recursive: true})
    const dead = deadIdentity()
    writeFileSync(path, `${dead.pid} ${dead.startTime} aaa\n`)
    writeFileSync(`${path}.break`, `${dead.pid} ${dead.startTime} bbb\n`)
    const lock = await acquirePoolLock(runDir, POOL, {timeoutMs: 500})
    lock.release()
    expect(readdirSync(`${runDir}/locks`)).toEqual([])
  })

  it('does not break a lock while a live process is breaking it', async () => {
    const runDir = freshRunDir()
    const path = poolLockPath(runDir, POOL)
    mkdirSync(`${runDir}/locks`, {recursive: true})
    const dead = deadIdentity()
    const me = selfIdentity()
    writeFileSync(path, `${dead.pid} ${dead.startTime} aaa\n`)
    writeFileSync(`${path}.break`, `${me.pid} ${me.startTime} ccc\n`)
    await expect(acquirePoolLock(runDir, POOL, {timeoutMs: 100})).rejects.toMatchObject({
      code: 'lock_held',
      message: expect.stringContaining(`process ${me.pid}`),
    })
    expect(readFileSync(path, 'utf8')).toBe(`${dead.pid} ${dead.startTime} aaa\n`)
  })

  it('does not remove a lock it no longer owns', async () => {
    const runDir = freshRunDir()
    const lock = await acquirePoolLock(runDir, POOL)
    const path = poolLockPath(runDir, POOL)
    writeFileSync(path, 'someone else\n')
    lock.release()
    expect(readFileSync(path, 'utf8')).toBe('someone else\n')
  })

  it('has a host-wide lock beside the pool locks', async () => {
    const runDir = freshRunDir()
    const host = await acquireHostLock(runDir)
    expect(existsSync(`${runDir}/locks/host.lock`)).toBe(true)
    await expect(acquireHostLock(runDir, {timeoutMs: 20})).rejects.toMatchObject({code: 'lock_held'})
    const pool = await acquirePoolLock(runDir, POOL, {timeoutMs: 0})
    pool.release()
    host.release()
  })
})
