import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {EMPTY_ENTRY, fold, formatLibraTime, observe, report, total, type LedgerEntry} from '../../../../src/worker/libra/metrics.js'

/** One METRICS call: observe the running process (if any), then report. */
function metricsCall(entry: LedgerEntry, raw: number | undefined): {bytes: number; next: LedgerEntry} {
  return report(raw === undefined ? entry : observe(entry, raw))
}

describe('METRICS accounting', () => {
  it("reproduces Libra's verified run (libra.md §3.6) for one protocol", () => {
    let entry = {...EMPTY_ENTRY}
    const reports: number[] = []
    const step = (raw: number) => {
      const {bytes, next} = metricsCall(entry, raw)
      reports.push(bytes)
      entry = next
    }
    step(1000) // 1000
    step(1500) // 500
    entry = fold(entry, 2000) // a reload at 2000: the worker saw the final counters
    step(100) // 600
    step(10) // totals dropped without a reload: forced reset
    expect(reports).toEqual([1000, 500, 600, 10])
  })

  it('a stop (SUSPEND) folds the final counters; METRICS while stopped reports them once', () => {
    let entry = metricsCall({...EMPTY_ENTRY}, 300).next
    entry = fold(entry, 450)
    const first = metricsCall(entry, undefined)
    expect(first.bytes).toBe(150)
    expect(metricsCall(first.next, undefined).bytes).toBe(0)
  })

  it('a fold never loses a later reading of the same process (max of final and last reading)', () => {
    const entry = observe({...EMPTY_ENTRY}, 700)
    expect(total(fold(entry, 500))).toBe(700)
  })

  it('never counts a byte twice and never loses one, whatever the order of traffic, reloads, restarts and reports', () => {
    type Event = {kind: 'traffic'; bytes: number} | {kind: 'reload'} | {kind: 'crash'} | {kind: 'report'}
    const event = fc.oneof(
      fc.record({kind: fc.constant('traffic' as const), bytes: fc.integer({min: 0, max: 10_000})}),
      fc.constant({kind: 'reload' as const}),
      fc.constant({kind: 'crash' as const}),
      fc.constant({kind: 'report' as const}),
    )
    fc.assert(
      fc.property(fc.array(event, {maxLength: 60}), (events: Event[]) => {
        let entry = {...EMPTY_ENTRY}
        let raw = 0
        let readOfCurrent = 0
        let served = 0
        let reported = 0
        // After a crash HAProxy restarts from zero, unseen; the next report must see the drop
        // before the new process outgrows the last reading, so traffic waits for a report.
        let crashedUnseen = false
        for (const item of events) {
          if (item.kind === 'traffic' && !crashedUnseen) {
            raw += item.bytes
            served += item.bytes
          } else if (item.kind === 'reload') {
            entry = fold(entry, raw)
            raw = 0
            readOfCurrent = 0
          } else if (item.kind === 'crash') {
            // Bytes since the last reading die with the process: only what was read counts.
            served -= raw - readOfCurrent
            raw = 0
            readOfCurrent = 0
            crashedUnseen = entry.lastRaw > 0
          } else if (item.kind === 'report') {
            const result = metricsCall(entry, raw)
            reported += result.bytes
            entry = result.next
            readOfCurrent = raw
            crashedUnseen = false
          }
        }
        reported += metricsCall(entry, raw).bytes
        return reported === served
      }),
    )
  })
})

describe('formatLibraTime', () => {
  it("is Python's str(datetime) in UTC, always with six fraction digits", () => {
    expect(formatLibraTime(Date.UTC(2014, 0, 9, 15, 11, 45) * 1_000 + 704_754)).toBe('2014-01-09 15:11:45.704754')
    // Libra's str(datetime) dropped ".000000" and its own parser then failed.
    expect(formatLibraTime(Date.UTC(2014, 0, 9, 15, 11, 45) * 1_000)).toBe('2014-01-09 15:11:45.000000')
    expect(formatLibraTime(Date.UTC(2030, 11, 31, 23, 59, 59) * 1_000 + 1)).toBe('2030-12-31 23:59:59.000001')
  })
})
