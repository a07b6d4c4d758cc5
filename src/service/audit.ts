/**
 * Records the audit trail (SPEC §10): who ran which state-changing command (argv with its
 * secrets removed, domain/redact.ts), what it touched, and how it ended. Recording never
 * changes a command's outcome: a failure to record is swallowed (the state file itself may
 * be what failed).
 */
import {userInfo} from 'node:os'

import {ValidationError} from '../domain/errors.js'
import {redactArgv, redactText} from '../domain/redact.js'
import type {Store} from '../store/db.js'
import {insertEvent, listEvents, type AuditEvent, type EventObject} from '../store/events.js'
import {findPoolsByName, getPool} from '../store/pools.js'

export {changesState} from '../domain/audit-scope.js'

/** `alice`, or `root (sudo: alice)` when run through sudo. */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  let name: string
  try {
    name = userInfo().username
  } catch {
    name = String(process.getuid?.() ?? 'unknown')
  }
  return env.SUDO_USER && env.SUDO_USER !== name ? `${name} (sudo: ${env.SUDO_USER})` : name
}

export interface CommandOutcome {
  /** oclif id, e.g. `pool:create`. */
  commandId: string
  argv: readonly string[]
  /** The parsed positional arguments, when parsing got that far. */
  args?: Record<string, unknown>
  /** What run() returned (the object created, updated or deleted). */
  result?: unknown
  exitCode: number
  error?: Error
  source?: 'cli' | 'worker'
}

function objectsOf(type: string, result: unknown, args: Record<string, unknown> | undefined): EventObject[] {
  if (result && typeof result === 'object' && !Array.isArray(result) && typeof (result as {id?: unknown}).id === 'string') {
    const {id, name} = result as {id: string; name?: unknown}
    return [{type, id, ...(typeof name === 'string' ? {name} : {})}]
  }
  return Object.entries(args ?? {})
    .filter(([, value]) => typeof value === 'string')
    .map(([key, value]) => ({type: key === 'pool' ? 'pool' : type, ref: value as string}))
}

function poolOf(store: Store, type: string, objects: EventObject[], result: unknown, args: Record<string, unknown> | undefined): {id: string | null; name: string | null} {
  const object = objects[0]
  if (type === 'pool' && object?.id) return {id: object.id, name: object.name ?? null}
  const poolId = result && typeof result === 'object' ? (result as {pool_id?: unknown}).pool_id : undefined
  if (typeof poolId === 'string') return {id: poolId, name: getPool(store.db, poolId)?.name ?? null}
  const ref = type === 'pool' ? object?.ref : typeof args?.pool === 'string' ? args.pool : undefined
  if (ref === undefined) return {id: null, name: null}
  const pool = getPool(store.db, ref) ?? (findPoolsByName(store.db, ref).length === 1 ? findPoolsByName(store.db, ref)[0] : undefined)
  return pool ? {id: pool.id, name: pool.name} : {id: null, name: ref}
}

export function recordEvent(store: Store, outcome: CommandOutcome, now = new Date()): void {
  try {
    const type = outcome.commandId.split(':')[0]
    const objects = objectsOf(type, outcome.result, outcome.args)
    store.write(() => {
      const pool = poolOf(store, type, objects, outcome.result, outcome.args)
      insertEvent(store.db, {
        time: now.toISOString(),
        user: currentUser(),
        source: outcome.source ?? 'cli',
        command: outcome.commandId.replaceAll(':', ' '),
        argv: redactArgv(outcome.argv),
        objects,
        pool_id: pool.id,
        pool_name: pool.name,
        result: outcome.exitCode === 0 ? 'ok' : 'error',
        exit_code: outcome.exitCode,
        error: outcome.error ? redactText(outcome.error.message) : null,
      })
    })
  } catch {
    // The trail must never turn a command's success into a failure, or hide its own error.
  }
}

export interface EventFilter {
  pool?: string
  since?: string
  limit?: number
}

export function events(store: Store, filter: EventFilter): AuditEvent[] {
  return store.read(() => {
    let poolId: string | undefined
    let poolName: string | undefined
    if (filter.pool !== undefined) {
      const byId = getPool(store.db, filter.pool)
      const byName = findPoolsByName(store.db, filter.pool)
      poolId = byId?.id ?? (byName.length === 1 ? byName[0].id : filter.pool)
      poolName = byId?.name ?? filter.pool
    }
    return listEvents(store.db, {poolId, poolName, since: filter.since, limit: filter.limit})
  })
}

/** `--since`: an ISO date or time (`2026-01-31`, `2026-01-31T12:00:00Z`) or an age (`30m`, `2h`, `7d`). */
export function sinceTime(text: string, now = new Date()): string {
  const age = /^(\d{1,6})([smhd])$/.exec(text)
  if (age) {
    const unit = {s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000}[age[2] as 's' | 'm' | 'h' | 'd']
    return new Date(now.getTime() - Number(age[1]) * unit).toISOString()
  }
  const parsed = /^\d{4}-\d\d-\d\d([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(parsed)) throw new ValidationError('since', `since ${JSON.stringify(text.slice(0, 40))} is not a time`, 'use an ISO date or time (2026-01-31, 2026-01-31T12:00:00Z) or an age (30m, 2h, 7d)')
  return new Date(parsed).toISOString()
}

/** Jobs that change what an agent hosts (SPEC §5, §6); reads (STATS, DISCOVER, PING, ARCHIVE...) are not recorded. */
const CHANGING_JOBS = new Set(['lbaas DEPLOY', 'lbaas RUNTIME', 'lbaas UNDEPLOY', 'libra CREATE', 'libra UPDATE', 'libra SUSPEND', 'libra ENABLE', 'libra DELETE'])

export interface JobOutcome {
  protocol: string
  action: string
  /** The pool id the job was for (`device` for Libra jobs). */
  pool?: string
  result: string
  error?: string
  /** The Gearman job handle, to match the job server's logs. */
  handle: string
}

/** An agent (`serve-worker`) records each state-changing job it ran in its own state file. */
export function recordJobEvent(store: Store, job: JobOutcome, now = new Date()): void {
  if (!CHANGING_JOBS.has(`${job.protocol} ${job.action}`)) return
  try {
    store.write(() => {
      const pool = job.pool && job.pool !== 'device' ? getPool(store.db, job.pool) : undefined
      const pass = job.result === 'PASS'
      insertEvent(store.db, {
        time: now.toISOString(),
        user: currentUser(),
        source: 'worker',
        command: `job ${job.protocol} ${job.action}`,
        argv: [job.handle],
        objects: job.pool ? [job.pool === 'device' ? {type: 'device', ref: 'device'} : {type: 'pool', id: job.pool, ...(pool ? {name: pool.name} : {})}] : [],
        pool_id: job.pool && job.pool !== 'device' ? job.pool : null,
        pool_name: pool?.name ?? null,
        result: pass ? 'ok' : 'error',
        // Jobs have no exit code; 0 and 1 say PASS and FAIL the way a command's would.
        exit_code: pass ? 0 : 1,
        error: job.error ? redactText(job.error) : null,
      })
    })
  } catch {
    // As for commands: the trail never fails a job.
  }
}
