/**
 * Measuring an outage without asserting on time: a probe that sends one request every
 * 20 ms (bounded: it stops by itself after `maxMs`) and keeps when each answered or
 * failed, and a reporter that prints the figures (`fault-figures …` on stdout) and, with
 * LBAAS_FAULT_FIGURES=FILE, appends them as one JSON line to FILE for BENCHMARKS.md.
 */
import {appendFileSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

export interface OutageProbe {
  failuresSince(t: number): number
  firstFailureAfter(t: number): number | undefined
  firstSuccessAfter(t: number): number | undefined
  stop(): void
}

export function outageProbe(check: () => Promise<boolean>, intervalMs = 20, maxMs = 120_000): OutageProbe {
  const samples: {t: number; ok: boolean}[] = []
  let stopped = false
  const deadline = performance.now() + maxMs
  void (async () => {
    while (!stopped && performance.now() < deadline) {
      const ok = await check().catch(() => false)
      samples.push({t: performance.now(), ok})
      await sleep(intervalMs)
    }
  })()
  return {
    failuresSince: (t) => samples.filter((sample) => sample.t >= t && !sample.ok).length,
    firstFailureAfter: (t) => samples.find((sample) => sample.t >= t && !sample.ok)?.t,
    firstSuccessAfter: (t) => samples.find((sample) => sample.t >= t && sample.ok)?.t,
    stop: () => {
      stopped = true
    },
  }
}

export function reportFigures(title: string, figures: Record<string, number | string>): void {
  const rounded = Object.fromEntries(Object.entries(figures).map(([key, value]) => [key, typeof value === 'number' ? Math.round(value) : value]))
  process.stdout.write(`fault-figures ${title}: ${JSON.stringify(rounded)}\n`)
  const file = process.env.LBAAS_FAULT_FIGURES
  if (file) appendFileSync(file, `${JSON.stringify({title, at: new Date().toISOString(), ...rounded})}\n`)
}
