/**
 * Supervising one keepalived per HA peer without systemd (SPEC §11, §4.7). keepalived runs
 * in the foreground (`--dont-fork`) as a detached child of `ip netns exec` (which execs it,
 * so the PID we get is keepalived's), VRRP only (`-P`), logging to the console, which is
 * the log file in the run dir. lbaas records its identity (PID and start time) when it
 * starts it and signals it only when every check of §4.7 holds: PID and start time as
 * recorded, `/proc/PID/exe` is keepalived, its command line names the pool's run-dir
 * config, and it runs in the peer's namespace. Reload is SIGHUP (keepalived re-reads the
 * file and keeps its VRRP state).
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {existsSync, readFileSync, readlinkSync, rmSync} from 'node:fs'

import {LbaasError, RuntimeFailure} from '../domain/errors.js'
import {parseVrrpState, type VrrpState} from '../keepalived/render.js'
import type {KeepalivedPaths} from './names.js'
import {processInNamespace} from './netns.js'
import {findProcesses, identityOf, isAlive, readPidFile, terminate, writePidFile, type ProcessIdentity} from './proc.js'
import {run, spawnDetached} from './run.js'

export const KEEPALIVED_PROGRAM = 'keepalived'
const EXE_NAME = /\/keepalived( \(deleted\))?$/

/** keepalived refused the configuration (`keepalived -t`); exit 3 like HAProxy's refusal. */
export class KeepalivedRejectedError extends LbaasError {
  readonly keepalivedOutput: string

  constructor(poolId: string, output: string) {
    super('keepalived_config_rejected', 3, `keepalived rejected the configuration for pool ${poolId}; the running configuration was kept:\n${output.trim()}`)
    this.keepalivedOutput = output
  }
}

/**
 * `keepalived -t -f FILE` inside the namespace (it checks that the interfaces exist).
 * keepalived 2.2.7 exits 0 when the file is clean and non-zero for any error, an unknown
 * keyword, an out-of-range value (which it would otherwise replace by a default) or an
 * insecure script.
 */
export async function validateKeepalivedConfig(poolId: string, file: string, namespace: string): Promise<void> {
  const result = await run([KEEPALIVED_PROGRAM, '-t', '-f', file], {allowFailure: true, netns: namespace, timeoutMs: 15_000})
  const output = `${result.stderr}${result.stdout}`.trim()
  if (result.exitCode !== 0) throw new KeepalivedRejectedError(poolId, output || `exit code ${result.exitCode}`)
}

function argvOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0')
  } catch {
    return undefined
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`)
  } catch {
    return undefined
  }
}

/**
 * Why the recorded keepalived is not (provably) the peer's running one; undefined when it is.
 * Every check of §4.7, in order.
 */
export function keepalivedIdentityMismatch(paths: KeepalivedPaths, namespace: string): string | undefined {
  const recorded = readPidFile(paths.identity)
  if (!recorded || recorded.startTime === undefined) return 'no recorded identity'
  if (!isAlive(recorded.pid, recorded.startTime)) return `PID ${recorded.pid} with start time ${recorded.startTime} is not running`
  const exe = exeOf(recorded.pid)
  if (!exe || !EXE_NAME.test(exe)) return `PID ${recorded.pid} runs ${exe ?? 'an unknown program'}, not keepalived`
  if (!argvOf(recorded.pid)?.includes(paths.config)) return `PID ${recorded.pid}'s command line does not name ${paths.config}`
  if (!processInNamespace(recorded.pid, namespace)) return `PID ${recorded.pid} does not run in namespace ${namespace}`
  return undefined
}

/**
 * The keepalived lbaas started for this peer, proven by §4.7; undefined when it is not
 * running (or when whatever holds the recorded PID is not provably ours).
 */
export function runningKeepalived(paths: KeepalivedPaths, namespace: string): ProcessIdentity | undefined {
  if (keepalivedIdentityMismatch(paths, namespace) !== undefined) return undefined
  const recorded = readPidFile(paths.identity)!
  return {pid: recorded.pid, startTime: recorded.startTime!}
}

/** Whether `pid` is a keepalived (parent or VRRP child) running this peer's configuration in its namespace. */
function isPeerKeepalived(pid: number, paths: KeepalivedPaths, namespace: string): boolean {
  return EXE_NAME.test(exeOf(pid) ?? '') && (argvOf(pid)?.includes(paths.config) ?? false) && processInNamespace(pid, namespace)
}

/** This peer's keepalived processes, found by their command line (one pass over /proc). */
function keepalivedsOf(paths: KeepalivedPaths, namespace: string): ProcessIdentity[] {
  return findProcesses((argv) => argv.includes(paths.config))
    .filter((found) => isPeerKeepalived(found.pid, paths, namespace))
    .map(({pid, startTime}) => ({pid, startTime}))
}

/**
 * What a keepalived that is gone left behind, before a new one starts. keepalived refuses to
 * start ("daemon is already running") while its pid files name a live PID: a VRRP child
 * that outlived its parent (ours by program, command line and namespace: it is stopped),
 * or a PID recycled by another process, or a zombie PID 1 has not reaped yet (the files
 * are removed; nothing else is signalled).
 */
async function clearDeadKeepalived(paths: KeepalivedPaths, namespace: string): Promise<void> {
  for (const orphan of keepalivedsOf(paths, namespace)) await terminate(orphan.pid, {startTime: orphan.startTime, graceMs: 2_000})
  rmSync(paths.pidFile, {force: true})
  rmSync(paths.vrrpPidFile, {force: true})
}

/**
 * Starts keepalived for the peer and waits until it runs as keepalived (after `ip netns
 * exec` has exec'd it) with its VRRP child up. Throws RuntimeFailure `keepalived_not_running`
 * with the log's tail when it exits instead.
 */
export async function startKeepalived(paths: KeepalivedPaths, namespace: string): Promise<ProcessIdentity> {
  // Said in the error should keepalived find another instance running from these files.
  const previous = keepalivedIdentityMismatch(paths, namespace)
  if (previous !== undefined) await clearDeadKeepalived(paths, namespace)
  rmSync(paths.stateFile, {force: true})
  const argv = [
    KEEPALIVED_PROGRAM,
    '--dont-fork',
    '--vrrp',
    '--log-console',
    '--log-detail',
    '--no-syslog',
    '--use-file',
    paths.config,
    '--pid',
    paths.pidFile,
    '--vrrp_pid',
    paths.vrrpPidFile,
  ]
  const pid = await spawnDetached(argv, {netns: namespace, logFile: paths.log})
  const started = identityOf(pid)
  if (!started) throw new RuntimeFailure('keepalived_not_running', `keepalived exited at once:\n${logTail(paths)}`)
  writePidFile(paths.identity, started)
  const deadline = Date.now() + 5_000
  for (;;) {
    const running = runningKeepalived(paths, namespace)
    const child = readPidFile(paths.vrrpPidFile)
    // The VRRP child is up when the pid file names a keepalived of this peer (not any live PID).
    if (running && child && child.pid !== running.pid && isAlive(child.pid) && isPeerKeepalived(child.pid, paths, namespace)) return running
    if (!isAlive(started.pid, started.startTime) || Date.now() >= deadline) {
      throw new RuntimeFailure(
        'keepalived_not_running',
        `keepalived did not start in ${namespace} (the one recorded before: ${previous ?? 'running'}):\n${logTail(paths)}`,
      )
    }
    await sleep(20)
  }
}

/** SIGHUP: keepalived re-reads its configuration and keeps its VRRP state. False when it is not (provably) running. */
export function reloadKeepalived(paths: KeepalivedPaths, namespace: string): boolean {
  const running = runningKeepalived(paths, namespace)
  if (!running) return false
  process.kill(running.pid, 'SIGHUP')
  return true
}

/**
 * Stops the peer's keepalived (SIGTERM: it removes the VIP and sends a priority-0 advert,
 * so the other peer takes over at once). Only a provably owned process is signalled.
 * Idempotent.
 */
export async function stopKeepalived(paths: KeepalivedPaths, namespace: string): Promise<void> {
  const running = runningKeepalived(paths, namespace)
  if (running) await terminate(running.pid, {startTime: running.startTime, graceMs: 3_000})
  await clearDeadKeepalived(paths, namespace)
  rmSync(paths.identity, {force: true})
}

/** What the notify script last wrote; undefined when keepalived has not reported yet. */
export function readVrrpState(paths: KeepalivedPaths): VrrpState | undefined {
  try {
    return parseVrrpState(readFileSync(paths.stateFile, 'utf8'))
  } catch {
    return undefined
  }
}

function logTail(paths: KeepalivedPaths): string {
  if (!existsSync(paths.log)) return '(no log)'
  return readFileSync(paths.log, 'utf8').split('\n').slice(-15).join('\n')
}
