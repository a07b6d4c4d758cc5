/**
 * A queue of commands on one pool is progress, not a hang: found by the concurrency test
 * (20 CLI processes on three shared pools), where a command gave up with `lock_held` after
 * 30 s although every holder kept the lock for a moment only, and its change was already in
 * the state file. The wait now restarts whenever the lock changes hands; one holder keeping
 * it for the whole timeout still makes the waiter give up.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, describe, expect, it} from 'vitest'

import {acquirePoolLock, type Lock} from '../../../src/host/lock.js'
import {tempDir} from '../../helpers/tmp.js'

const POOL = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab'
const dir = tempDir('lbaas-lockq-')
afterAll(() => dir.cleanup())


describe('waiting for a pool lock', () => {
  it('outlasts the timeout while the lock keeps changing hands', async () => {
    const runDir = `${dir.path}/queue`
    let held: Lock = await acquirePoolLock(runDir, POOL)
    let waiterGotIt = false
    const waiter = acquirePoolLock(runDir, POOL, {timeoutMs: 2_000}).then((lock) => {
      waiterGotIt = true
      return lock
    })
    // Six holders of 500 ms each: 3 s in all, longer than the waiter's 2 s.
    for (let handover = 0; handover < 6; handover++) {
      await sleep(500)
      expect(waiterGotIt).toBe(false)
      held.release()
      // Synchronously: the next holder takes it before the waiter polls again.
      held = await acquirePoolLock(runDir, POOL, {timeoutMs: 0})
    }
    held.release()
    const lock = await waiter
    expect(waiterGotIt).toBe(true)
    lock.release()
  })

  it('still gives up when one holder keeps it for the whole timeout', async () => {
    const runDir = `${dir.path}/hang`
    const held = await acquirePoolLock(runDir, POOL)
    try {
      await expect(acquirePoolLock(runDir, POOL, {timeoutMs: 300})).rejects.toMatchObject({code: 'lock_held', exit: 4})
    } finally {
      held.release()
    }
  })
})
