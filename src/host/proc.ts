/**
 * Processes, seen through /proc. A process is alive when /proc/PID/stat exists and its
 * state is not `Z` (zombie) or `X` (dead): PID 1 on these hosts reaps orphans ~1.8 s late,
 * so `kill -0` would call an exited daemon alive (probe.md §7). The start time (field 22,
 * clock ticks since boot) identifies a process together with its PID, so a recycled PID
 * is never mistaken for ours.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {readdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {InternalError, RuntimeFailure} from '../domain/errors.js'
import {makePrivateDirs} from '../util/fs.js'

export interface ProcessStat {
  pid: number
  /** Executable name as the kernel keeps it (≤ 15 bytes). */
  comm: string
  /** One letter: R, S, D, T, Z, X, I, … */
  state: string
  ppid: number
  /** Clock ticks after boot at which the process started. */
  startTime: number
}

/** A process as recorded in lock and pid files: `PID STARTTIME`. */
export interface ProcessIdentity {
  pid: number
  startTime: number
}

function validPid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0
}

/** Parses the text of /proc/PID/stat; undefined when it is not one. */
export function parseStat(text: string): ProcessStat | undefined {
  // comm may contain spaces and parentheses; it ends at the last ')'.
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return undefined
  const pid = Number(text.slice(0, open).trim())
  const fields = text.slice(close + 2).split(' ')
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const state = fields[0]
  const ppid = Number(fields[1])
  const startTime = Number(fields[19])
  if (!validPid(pid) || !state || !Number.isSafeInteger(ppid) || !Number.isSafeInteger(startTime)) return undefined
  return {pid, comm: text.slice(open + 1, close), state, ppid, startTime}
}

export function readProcessStat(pid: number): ProcessStat | undefined {
  if (!validPid(pid)) return undefined
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/**
 * True when the process exists, is not a zombie, and (when `startTime` is given) is the
 * same process that had that start time.
 */
export function isAlive(pid: number, startTime?: number): boolean {
  const stat = readProcessStat(pid)
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false
  return startTime === undefined || stat.startTime === startTime
}

/** The identity of a live process, or undefined. */
export function identityOf(pid: number): ProcessIdentity | undefined {
  const stat = readProcessStat(pid)
  if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined
  return {pid: stat.pid, startTime: stat.startTime}
}

let self: ProcessIdentity | undefined

/** This process's identity (read once). */
export function selfIdentity(): ProcessIdentity {
  self ??= identityOf(process.pid) ?? {pid: process.pid, startTime: -1}
  return self
}

export function formatIdentity(identity: ProcessIdentity): string {
  return `${identity.pid} ${identity.startTime}\n`
}

/** Parses `PID` or `PID STARTTIME` (a pid file of HAProxy holds just the PID). */
export function parseIdentity(text: string): {pid: number; startTime?: number} | undefined {
  const match = /^\s*(\d+)(?:\s+(\d+))?\s*$/.exec(text)
  if (!match) return undefined
  const pid = Number(match[1])
  if (!validPid(pid)) return undefined
  return match[2] === undefined ? {pid} : {pid, startTime: Number(match[2])}
}

/** Reads a pid file; undefined when it is missing or does not hold a PID. */
export function readPidFile(path: string): {pid: number; startTime?: number} | undefined {
  try {
    return parseIdentity(readFileSync(path, 'utf8'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Writes `PID STARTTIME` atomically (temporary file + rename), mode 0600. */
export function writePidFile(path: string, identity: ProcessIdentity): void {
  makePrivateDirs(dirname(path))
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, formatIdentity(identity), {mode: 0o600})
  renameSync(temporary, path)
}


/** Polls /proc until the process is dead; true when it died within `timeoutMs`. */
export async function waitUntilDead(pid: number, timeoutMs: number, startTime?: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  let pause = 2
  while (isAlive(pid, startTime)) {
    if (performance.now() >= deadline) return false
    await sleep(pause)
    pause = Math.min(pause * 2, 50)
  }
  return true
}

export interface TerminateOptions {
  /** First signal; default SIGTERM. */
  signal?: NodeJS.Signals
  /** How long the process may take to exit before SIGKILL; default 5000 ms. */
  graceMs?: number
  /** Only signal the process when it still has this start time (guards recycled PIDs). */
  startTime?: number
}

export type TerminateOutcome = 'not-running' | 'exited' | 'killed'

/**
 * Stops one process: `signal`, then SIGKILL after `graceMs`, and waits until /proc says it
 * is dead (a zombie counts as dead). Idempotent: a process that is gone (or whose PID now
 * belongs to another process) is 'not-running'. Throws RuntimeFailure `process_survived`
 * when it outlives SIGKILL (e.g. stuck in uninterruptible sleep), and refuses PID 1 and
 * this process.
 */
export async function terminate(pid: number, options: TerminateOptions = {}): Promise<TerminateOutcome> {
  if (!validPid(pid) || pid === 1 || pid === process.pid) {
    throw new InternalError(`refusing to terminate PID ${pid}`)
  }
  const {signal = 'SIGTERM', graceMs = 5_000, startTime} = options
  if (!isAlive(pid, startTime)) return 'not-running'
  if (!sendSignal(pid, signal)) return 'not-running'
  if (await waitUntilDead(pid, graceMs, startTime)) return 'exited'
  if (!isAlive(pid, startTime) || !sendSignal(pid, 'SIGKILL')) return 'exited'
  if (await waitUntilDead(pid, 5_000, startTime)) return 'killed'
  throw new RuntimeFailure('process_survived', `process ${pid} is still running after SIGKILL`, `look at /proc/${pid}/status`)
}

function sendSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

export interface ProcessInfo {
  pid: number
  argv: string[]
  startTime: number
}

/**
 * Live processes whose command line matches `predicate` (e.g. HAProxy processes whose
 * argv names a file under our run dir). Zombies and kernel threads (empty cmdline) are
 * skipped; processes that exit while being read are skipped.
 */
export function findProcesses(predicate: (argv: readonly string[], pid: number) => boolean): ProcessInfo[] {
  const found: ProcessInfo[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    let argv: string[]
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (raw.length === 0) continue
      argv = raw.replace(/\0$/, '').split('\0')
    } catch {
      continue
    }
    if (!predicate(argv, pid)) continue
    const identity = identityOf(pid)
    if (identity) found.push({pid, argv, startTime: identity.startTime})
  }
  return found
}

/** Numbers of the signals a process blocks (/proc/PID/status SigBlk), or undefined when it is gone. */
export function blockedSignals(pid: number): Set<number> | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const match = /^SigBlk:\s*([0-9a-f]+)$/m.exec(status)
  if (!match) return undefined
  const mask = BigInt(`0x${match[1]}`)
  const blocked = new Set<number>()
  for (let signal = 1; signal <= 64; signal++) {
    if (mask & (1n << BigInt(signal - 1))) blocked.add(signal)
  }
  return blocked
}
