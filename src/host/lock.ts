/**
 * Cross-process locks on files (SPEC §4.3 step 1): CLI runs and the worker serialise on one
 * pool and run freely on different pools.
 *
 * A lock is the file `<run dir>/locks/<pool id>.lock` holding `PID STARTTIME TOKEN` of its
 * owner. It is created complete and atomically (written under a temporary name, then
 * `link()`ed, which fails with EEXIST when the lock is taken), so a reader never sees a
 * half-written owner. A lock whose owner is dead, a zombie, or whose PID now belongs to
 * another process is stale and is broken. Breaking is itself serialised by a short-lived
 * `<lock>.break` file, so two waiters never both remove a lock and one of them removes the
 * fresh lock of a third.
 *
 * Locks are not re-entrant: acquiring a lock this process already holds waits like any
 * other contender (the worker relies on that to serialise concurrent jobs for one pool).
 * Directories are created 0700, lock files 0600.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {randomBytes} from 'node:crypto'
import {linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {ConflictError} from '../domain/errors.js'
import {hostLockPath, poolLockPath} from './names.js'
import {isAlive, selfIdentity} from './proc.js'
import {makePrivateDirs} from '../util/fs.js'

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000
/** A `.break` file lives for microseconds; one older than this belongs to a crashed breaker. */
const STALE_BREAK_FILE_MS = 5_000

export interface LockOptions {
  /** Give up after this long; default DEFAULT_LOCK_TIMEOUT_MS. */
  timeoutMs?: number
  /** Called once when the lock is busy and this call starts waiting (e.g. to tell the operator). */
  onWait?: (holder: LockHolder) => void
}

export interface LockHolder {
  pid: number
  startTime: number
  /** The holder's command line, when it could be read. */
  command?: string
}

export interface Lock {
  readonly path: string
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void
}


function parseHolder(text: string): LockHolder | undefined {
  const match = /^(\d+) (\d+)(?: \S+)?\n?$/.exec(text)
  if (!match) return undefined
  return {pid: Number(match[1]), startTime: Number(match[2])}
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

function commandOf(pid: number): string | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0')
    const text = argv.join(' ')
    return text.length > 120 ? `${text.slice(0, 117)}...` : text || undefined
  } catch {
    return undefined
  }
}

/** Creates `path` holding `content` if it does not exist; false when it exists. */
function createExclusive(path: string, content: string): boolean {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(temporary, content, {mode: 0o600})
  try {
    linkSync(temporary, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    unlinkSync(temporary)
  }
}

function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

function holderIsAlive(holder: LockHolder | undefined): boolean {
  return holder !== undefined && isAlive(holder.pid, holder.startTime)
}

/**
 * Removes the lock at `path` if it still holds `observed` (the content of a lock whose owner
 * is dead). Only the holder of `<path>.break` removes locks; the lock cannot change under
 * it, because nobody can create a lock file that exists and its dead owner cannot release it.
 * Returns undefined when the caller may retry at once, or the live process that is breaking
 * the lock right now (the caller then waits as for a live holder).
 */
function breakStaleLock(path: string, observed: string, ours: string): LockHolder | undefined {
  const breakPath = `${path}.break`
  if (!createExclusive(breakPath, ours)) return removeAbandonedBreakFile(breakPath)
  try {
    if (readText(path) === observed) unlinkIfExists(path)
  } finally {
    if (readText(breakPath) === ours) unlinkIfExists(breakPath)
  }
  return undefined
}

function removeAbandonedBreakFile(breakPath: string): LockHolder | undefined {
  const content = readText(breakPath)
  if (content === undefined) return undefined
  const breaker = parseHolder(content)
  let ageMs = 0
  try {
    ageMs = Date.now() - statSync(breakPath).mtimeMs
  } catch {
    return undefined
  }
  if (holderIsAlive(breaker) && ageMs < STALE_BREAK_FILE_MS) return breaker
  // Move it aside before checking, so we never delete a break file created after our read.
  const aside = `${breakPath}.${process.pid}.${randomBytes(4).toString('hex')}.old`
  try {
    renameSync(breakPath, aside)
  } catch {
    return undefined
  }
  if (readText(aside) !== content) {
    try {
      linkSync(aside, breakPath)
    } catch {
      // someone else holds a newer break file; ours was displaced and is dropped
    }
  }
  unlinkIfExists(aside)
  return undefined
}

/**
 * Takes the lock at `path`, waiting (polling with short sleeps) while a live process holds
 * it. Throws ConflictError `lock_held` naming the holder once one holder has kept it for
 * `timeoutMs` of our wait: a queue of commands that each hold it briefly is progress, not
 * a hang, so the wait starts again whenever the lock changes hands. `label` names what is
 * locked in that message, e.g. `pool 6f1c…`.
 */
export async function acquireLock(path: string, label: string, options: LockOptions = {}): Promise<Lock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS
  makePrivateDirs(dirname(path))
  const me = selfIdentity()
  const ours = `${me.pid} ${me.startTime} ${randomBytes(6).toString('hex')}\n`
  let deadline = performance.now() + timeoutMs
  let pause = 5
  let told = false
  let lastHolder: string | undefined
  for (;;) {
    if (createExclusive(path, ours)) return ownedLock(path, ours)
    const content = readText(path)
    if (content === undefined) continue
    if (lastHolder !== undefined && content !== lastHolder) deadline = performance.now() + timeoutMs
    lastHolder = content
    let blocker = parseHolder(content)
    if (!holderIsAlive(blocker)) {
      blocker = breakStaleLock(path, content, ours)
      if (blocker === undefined) continue
    }
    if (!told) {
      told = true
      options.onWait?.({...blocker!, command: commandOf(blocker!.pid)})
    }
    if (performance.now() >= deadline) {
      const holder = {...blocker!, command: commandOf(blocker!.pid)}
      throw new ConflictError(
        'lock_held',
        `${label} is locked by process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}; gave up after ${formatSeconds(timeoutMs)}`,
        `wait for that command to finish, or stop process ${holder.pid} if it hangs`,
      )
    }
    await sleep(Math.min(pause + Math.random() * pause, Math.max(1, deadline - performance.now())))
    pause = Math.min(pause * 1.5, 100)
  }
}

function formatSeconds(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 1_000)} s`
}

function ownedLock(path: string, ours: string): Lock {
  let released = false
  return {
    path,
    release() {
      if (released) return
      released = true
      if (readText(path) === ours) unlinkIfExists(path)
    },
  }
}

/**
 * The live process holding the lock at `path` (`PID STARTTIME TOKEN`), or undefined when
 * the lock is free or its holder is dead. For readers that must not wait for the lock.
 */
export function liveLockHolder(path: string): LockHolder | undefined {
  let content: string | undefined
  try {
    content = readText(path)
  } catch {
    return undefined
  }
  const holder = content === undefined ? undefined : parseHolder(content)
  return holderIsAlive(holder) ? holder : undefined
}

/** The lock of one pool: deploy, reload, runtime changes and undeploy of that pool. */
export function acquirePoolLock(runDir: string, poolId: string, options?: LockOptions): Promise<Lock> {
  return acquireLock(poolLockPath(runDir, poolId), `pool ${poolId}`, options)
}

/**
 * The host-wide lock, for work on things pools share (bridges of managed subnets, `sync`).
 * It lives in the run dir: bridges are named after subnet ids, which are unique per state
 * file, so two state files on one host never share a bridge.
 */
export function acquireHostLock(runDir: string, options?: LockOptions): Promise<Lock> {
  return acquireLock(hostLockPath(runDir), 'the host (bridges, sync)', options)
}

export async function withLock<T>(acquire: Promise<Lock>, fn: () => Promise<T> | T): Promise<T> {
  const lock = await acquire
  try {
    return await fn()
  } finally {
    lock.release()
  }
}

/** Runs `fn` holding the pool's lock; the lock is released however `fn` ends. */
export function withPoolLock<T>(runDir: string, poolId: string, fn: () => Promise<T> | T, options?: LockOptions): Promise<T> {
  return withLock(acquirePoolLock(runDir, poolId, options), fn)
}

/** Runs `fn` holding the host-wide lock. */
export function withHostLock<T>(runDir: string, fn: () => Promise<T> | T, options?: LockOptions): Promise<T> {
  return withLock(acquireHostLock(runDir, options), fn)
}
