/**
 * The open-file limit and the HAProxy maxconn it allows. Kept apart from limits.ts (the
 * `doctor` probes) because every command needs it and it must stay cheap to import.
 */
import {readFileSync} from 'node:fs'

export interface FdLimit {
  /** Infinity when unlimited. */
  soft: number
  hard: number
}

function limitValue(text: string): number {
  return text === 'unlimited' ? Infinity : Number(text)
}

/** Parses the "Max open files" line of /proc/PID/limits. */
export function parseFdLimit(limitsText: string): FdLimit {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s+files/m.exec(limitsText)
  if (!match) throw new Error('no "Max open files" line in /proc/self/limits')
  return {soft: limitValue(match[1]), hard: limitValue(match[2])}
}

/**
 * This process's open-file limit. HAProxy started from here inherits it and may raise its
 * soft limit up to the hard one, never beyond without CAP_SYS_RESOURCE (probe.md §7).
 */
export function readFdLimit(): FdLimit {
  return parseFdLimit(readFileSync('/proc/self/limits', 'utf8'))
}

/**
 * File descriptors HAProxy 2.6 needs besides two per connection, measured here: 40 with
 * two threads, a listener, stats and master sockets; plus one per server with `check`
 * ("Cannot raise FD limit to 2 × maxconn + 40 + servers").
 */
const HAPROXY_FIXED_FDS = 100
/** Servers with health checks that the reserve covers before it grows with `checkedServers`. */
const RESERVED_CHECKED_SERVERS = 1_900
/** With no hard limit, memory is the bound: ~32 kB of buffers per connection at most. */
export const MAX_SAFE_MAXCONN = 100_000

/**
 * The largest `global maxconn` HAProxy will start with under `hardLimit` open files:
 *
 *   floor((hardLimit − 100 − max(checkedServers, min(1900, hardLimit / 4))) / 2)
 *
 * rounded down to a multiple of 100 (of 10 below 1000), at most MAX_SAFE_MAXCONN, 0 when
 * the limit is too small for HAProxy at all. HAProxy refuses to start when
 * 2 × maxconn + 40 + checked servers exceeds the limit it can raise to; at 20000 this
 * gives 9000 (HAProxy itself refuses 9984 and above).
 */
export function safeMaxConn(hardLimit: number, checkedServers = 0): number {
  if (hardLimit === Infinity) return MAX_SAFE_MAXCONN
  if (!Number.isFinite(hardLimit) || hardLimit <= 0) return 0
  const servers = Math.max(checkedServers, Math.min(RESERVED_CHECKED_SERVERS, Math.floor(hardLimit / 4)))
  const raw = Math.floor((hardLimit - HAPROXY_FIXED_FDS - servers) / 2)
  if (raw <= 0) return 0
  const step = raw >= 1_000 ? 100 : 10
  return Math.min(MAX_SAFE_MAXCONN, Math.floor(raw / step) * step)
}

/**
 * HAProxy started from this process can run `global maxconn` only when this process's hard
 * limit allows it (HAProxy raises its soft limit up to the hard one; raising the hard one
 * needs CAP_SYS_RESOURCE, which containers often drop). The rendered maxconn comes from the
 * limit recorded in the state file, not from here, so a caller with a lower hard limit
 * gets this message instead of a different configuration.
 */
export function fdLimitShortfall(maxconn: number, hardLimit = readFdLimit().hard): string | undefined {
  if (safeMaxConn(hardLimit) >= maxconn) return undefined
  return (
    `this process's open-file hard limit (${hardLimit}) is too low for the recorded host limit ` +
    `(HAProxy maxconn ${maxconn}); run lbaas with the hard limit it was recorded with ` +
    `(ulimit -Hn), or record this one with \`lbaas doctor --record-limits\``
  )
}
