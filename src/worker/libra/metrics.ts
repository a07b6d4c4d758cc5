/**
 * METRICS accounting (libra.md §2.7, §3.6): bytes_out per protocol since the last report,
 * across HAProxy reloads, stops and restarts, never counted twice. Pure: the caller reads
 * HAProxy and stores the ledger in one transaction.
 *
 * Per protocol the ledger holds `base` (bytes of HAProxy processes that ended), `lastRaw`
 * (the last reading of the running process) and `reported` (bytes already reported). The
 * cumulative total is `base + raw`. Libra's defects this avoids: folding counters into the
 * ledger before a reload that then fails (the caller folds only once the process really
 * changed), a non-atomic cache file, and timestamps without microseconds.
 */

export type MetricsProtocol = 'http' | 'tcp'
export const METRICS_PROTOCOLS: readonly MetricsProtocol[] = ['http', 'tcp']

export interface LedgerEntry {
  base: number
  lastRaw: number
  reported: number
}

export type Ledger = Record<MetricsProtocol, LedgerEntry>

export const EMPTY_ENTRY: LedgerEntry = {base: 0, lastRaw: 0, reported: 0}

/**
 * A reading of the running process. A value below the last reading means HAProxy was
 * restarted behind the worker's back (a crash, `sync` after a reboot): the last reading is
 * all that process ever reported, so it joins the base (Libra's "forced reset").
 */
export function observe(entry: LedgerEntry, raw: number): LedgerEntry {
  return raw < entry.lastRaw ? {...entry, base: entry.base + entry.lastRaw, lastRaw: raw} : {...entry, lastRaw: raw}
}

/** The process was replaced or stopped after its final counters read `final`. */
export function fold(entry: LedgerEntry, final: number): LedgerEntry {
  return {...entry, base: entry.base + Math.max(final, entry.lastRaw), lastRaw: 0}
}

export function total(entry: LedgerEntry): number {
  return entry.base + entry.lastRaw
}

/** What to report now, and the ledger once it is reported. */
export function report(entry: LedgerEntry): {bytes: number; next: LedgerEntry} {
  const cumulative = total(entry)
  return {bytes: Math.max(0, cumulative - entry.reported), next: {...entry, reported: Math.max(cumulative, entry.reported)}}
}

/** Microseconds since the epoch, from the high-resolution clock. */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1_000)
}

/** Python's `str(datetime)` in UTC, always with microseconds: `2014-01-09 15:11:45.704754`. */
export function formatLibraTime(micros: number): string {
  const date = new Date(Math.floor(micros / 1_000))
  const pad = (value: number, width = 2) => String(value).padStart(width, '0')
  const fraction = pad(((micros % 1_000_000) + 1_000_000) % 1_000_000, 6)
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${fraction}`
  )
}
