import {describe, expect, it} from 'vitest'

import {mapWithConcurrency, settleWithConcurrency} from '../../../src/util/concurrency.js'

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('mapWithConcurrency', () => {
  it('keeps the order of the items whatever order the work finishes in', async () => {
    const delays = [30, 5, 20, 0, 10]
    expect(await mapWithConcurrency(delays, 3, async (ms, index) => (await tick(ms), `${index}:${ms}`))).toEqual([
      '0:30',
      '1:5',
      '2:20',
      '3:0',
      '4:10',
    ])
  })

  it('never runs more than the limit at once, and does run that many', async () => {
    let running = 0
    let most = 0
    await mapWithConcurrency(Array.from({length: 20}, (_, index) => index), 4, async () => {
      running++
      most = Math.max(most, running)
      await tick(2)
      running--
    })
    expect(most).toBe(4)
  })

  it('starts nothing after a failure, lets the running work finish, then rejects with the first error', async () => {
    const started: number[] = []
    const finished: number[] = []
    const outcome = mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item)
      if (item === 1) throw new Error('pool 1 failed')
      await tick(20)
      finished.push(item)
    })
    await expect(outcome).rejects.toThrow('pool 1 failed')
    expect(started).toEqual([0, 1])
    expect(finished).toEqual([0])
  })

  it('answers an empty list with an empty list and refuses a limit below 1', async () => {
    expect(await mapWithConcurrency([], 5, async () => 1)).toEqual([])
    await expect(mapWithConcurrency([1], 0, async () => 1)).rejects.toThrow(RangeError)
  })
})

describe('settleWithConcurrency', () => {
  it('runs every item despite failures, at most `limit` at once, in order', async () => {
    let running = 0
    let peak = 0
    const outcomes = await settleWithConcurrency([1, 2, 3, 4, 5], 2, async (n) => {
      running++
      peak = Math.max(peak, running)
      await new Promise((resolve) => setTimeout(resolve, 5))
      running--
      if (n % 2 === 0) throw new Error(`even ${n}`)
      return n * 10
    })
    expect(peak).toBe(2)
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
      10, 'even 2', 30, 'even 4', 50,
    ])
  })
})
