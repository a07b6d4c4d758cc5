import {setTimeout as sleep} from 'node:timers/promises'
import {describe, expect, it} from 'vitest'

import {JobScheduler} from '../../../src/worker/scheduler.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return {promise, resolve}
}

describe('JobScheduler', () => {
  it('runs slow jobs of one key in arrival order, one at a time', async () => {
    const scheduler = new JobScheduler(4)
    const order: string[] = []
    const first = deferred()
    const a = scheduler.run('slow', 'pool:1', async () => {
      order.push('a start')
      await first.promise
      order.push('a end')
    })
    const b = scheduler.run('slow', 'pool:1', async () => {
      order.push('b')
    })
    await sleep(10)
    expect(order).toEqual(['a start'])
    expect(scheduler.busy('pool:1')).toBe(true)
    first.resolve()
    await Promise.all([a, b])
    expect(order).toEqual(['a start', 'a end', 'b'])
    await scheduler.idle()
    expect(scheduler.busy('pool:1')).toBe(false)
  })

  it('runs different keys at once, at most `concurrency` at a time', async () => {
    const scheduler = new JobScheduler(2)
    let running = 0
    let peak = 0
    const gates = Array.from({length: 5}, deferred)
    const jobs = gates.map((gate, index) =>
      scheduler.run('slow', `pool:${index}`, async () => {
        running++
        peak = Math.max(peak, running)
        await gate.promise
        running--
      }),
    )
    await sleep(10)
    expect(running).toBe(2)
    for (const gate of gates) gate.resolve()
    await Promise.all(jobs)
    expect(peak).toBe(2)
  })

  it('quick jobs never wait behind slow ones, even for the same key', async () => {
    const scheduler = new JobScheduler(1)
    const gate = deferred()
    const slow = scheduler.run('slow', 'device', () => gate.promise)
    const quick = await scheduler.run('quick', 'device', async () => 'stats')
    expect(quick).toBe('stats')
    gate.resolve()
    await slow
  })

  it('a failed job does not stop the jobs queued behind it, and its error reaches its caller', async () => {
    const scheduler = new JobScheduler(1)
    const failing = scheduler.run('slow', 'k', async () => {
      throw new Error('boom')
    })
    const next = scheduler.run('slow', 'k', async () => 'ran')
    await expect(failing).rejects.toThrow('boom')
    expect(await next).toBe('ran')
  })

  it('idle() waits for every slow job submitted', async () => {
    const scheduler = new JobScheduler(1)
    const done: number[] = []
    for (let index = 0; index < 3; index++) {
      void scheduler.run('slow', `k${index}`, async () => {
        await sleep(5)
        done.push(index)
      })
    }
    await scheduler.idle()
    expect(done).toEqual([0, 1, 2])
    expect(scheduler.backlog).toBe(0)
  })
})
