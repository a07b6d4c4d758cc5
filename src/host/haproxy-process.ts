/**
 * Supervising one HAProxy per pool without systemd: a master-worker process started inside
 * the pool's namespace (`haproxy -W -D -S master.sock`), reloaded through its master socket
 * (listeners pass to the new worker over a socketpair, so no connection is dropped:
 * probe.md §4), and judged alive from /proc (PID 1 here reaps zombies late).
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {chmodSync, existsSync, readFileSync, rmSync} from 'node:fs'

import {ConfigRejectedError, RuntimeFailure} from '../domain/errors.js'
import {reloadAndWait, showInfo, showProc, type ReloadOutcome} from '../haproxy/runtime.js'
import type {PoolPaths} from './names.js'
import {namespaceExists} from './netns.js'
import {checkRecorded, observeProcess, recordIdentity, type IdentityVerdict, type RecordedIdentity} from './identity.js'
import {findProcesses, readPidFile, readProcessStat, terminate, type ProcessInfo} from './proc.js'
import {run} from './run.js'

/**
 * The master recorded for this run-dir entry and what /proc says of it now (SPEC §4.7):
 * `running` only when PID, start time, program, command line and namespace all match.
 */
export function masterIdentity(paths: Pick<PoolPaths, 'identity'>): {record: RecordedIdentity | undefined; verdict: IdentityVerdict} {
  return checkRecorded(paths.identity)
}

/** The running master's PID, proven by its identity record; undefined when not running (or not provably ours). */
export function runningMaster(paths: Pick<PoolPaths, 'identity'>): number | undefined {
  const {record, verdict} = masterIdentity(paths)
  return record && verdict.state === 'running' ? record.pid : undefined
}

/**
 * `haproxy -c` on `file`, inside the namespace when it exists (the same view of addresses
 * the real start gets). Throws ConfigRejectedError with HAProxy's output when refused.
 */
export async function validateConfig(poolId: string, file: string, namespace: string | undefined): Promise<void> {
  // No `-q`: HAProxy 2.6 then also keeps its ALERT lines to itself, and the operator would
  // only learn "exit code 1" instead of what it refused.
  const result = await run(['haproxy', '-c', '-f', file], {
    allowFailure: true,
    netns: namespace && namespaceExists(namespace) ? namespace : undefined,
    timeoutMs: 30_000,
  })
  if (result.exitCode !== 0) throw new ConfigRejectedError(poolId, `${result.stderr}${result.stdout}`.trim() || `exit code ${result.exitCode}`)
}

/** Starts the master-worker inside `namespace` (null: the host's own) and waits until a worker answers on the stats socket. */
export async function startHaproxy(paths: PoolPaths, namespace: string | null, options: {takeOver?: boolean} = {}): Promise<void> {
  if (paths.masterSocket.includes(',')) {
    throw new RuntimeFailure('run_dir_unusable', `the run dir must not contain a comma (HAProxy's -S syntax): ${paths.masterSocket}`)
  }
  // takeOver: an HAProxy of this entry still serves; `-x` receives its listening sockets over
  // its stats socket (`expose-fd listeners`), so no connection is refused while it goes. When
  // that socket does not answer, HAProxy in master-worker mode says so and binds its own.
  const takeOver = options.takeOver && existsSync(paths.statsSocket) ? ['-x', paths.statsSocket] : []
  await run(['haproxy', '-W', '-D', '-S', `${paths.masterSocket},mode,600`, '-p', paths.pidFile, ...takeOver, '-f', paths.config], {
    netns: namespace ?? undefined,
    timeoutMs: 30_000,
    what: `starting HAProxy${namespace ? ` in ${namespace}` : ''}`,
  })
  // After a take-over the stats socket is shared with the old worker, which may answer it:
  // only an answer from a worker of the new master counts.
  await waitForWorker(paths, {ofNewMaster: takeOver.length > 0})
  privatePidFile(paths)
  const master = readPidFile(paths.pidFile)
  if (!master || !recordIdentity(paths.identity, master.pid, {run_path: paths.dir, namespace})) {
    throw new RuntimeFailure('haproxy_not_serving', `HAProxy started but its master (pid file ${paths.pidFile}) could not be identified`)
  }
}

/**
 * HAProxy writes its pid file 0644 whatever the umask asks; SPEC §4.1 wants 0600 for every
 * file of the run dir (the 0700 directory already hides it; this keeps it so should the
 * directory's mode ever be loosened).
 */
function privatePidFile(paths: Pick<PoolPaths, 'pidFile'>): void {
  try {
    chmodSync(paths.pidFile, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

async function waitForWorker(paths: PoolPaths, options: {ofNewMaster?: boolean; timeoutMs?: number} = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000)
  for (;;) {
    try {
      const {pid} = await showInfo(paths.statsSocket, {timeoutMs: 1_000})
      if (!options.ofNewMaster) return
      const workers = (await showProc(paths.masterSocket, {timeoutMs: 1_000})).workers.map((worker) => worker.pid)
      if (workers.includes(pid)) return
      throw new Error(`answered by PID ${pid}, not by a worker of the new master (${workers.join(', ') || 'none yet'})`)
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new RuntimeFailure('haproxy_not_serving', `HAProxy started but its worker does not answer on ${paths.statsSocket}: ${(error as Error).message}`)
      }
      await sleep(10)
    }
  }
}

/**
 * Reloads through the master socket and waits for the new worker. A refused reload leaves
 * the old worker serving; the caller restores the last good file and reloads again.
 */
export async function reloadHaproxy(paths: PoolPaths): Promise<ReloadOutcome> {
  const outcome = await reloadAndWait(paths.masterSocket, {statsSocket: paths.statsSocket, waitMs: 15_000})
  privatePidFile(paths)
  return outcome
}

/**
 * Stops the pool's HAProxy: a soft stop (SIGUSR1 lets workers finish what they serve for a
 * moment), then SIGTERM and SIGKILL. Only a master proven ours by its identity record is
 * signalled, `running` or `detached` (its namespace was deleted under it), and only workers
 * that are its children. Also ends an HAProxy whose command line loads this entry's
 * configuration but that has no record (a crash between start and recording it): the run
 * dir is 0700 and the program must be HAProxy itself. Idempotent.
 */
export async function stopHaproxy(paths: PoolPaths): Promise<void> {
  const {record, verdict} = masterIdentity(paths)
  const master = record && (verdict.state === 'running' || verdict.state === 'detached') ? record : undefined
  const workers = master ? await workerPids(paths, master.pid) : []
  if (master) {
    const startTime = master.start_time
    await terminate(master.pid, {signal: 'SIGUSR1', graceMs: 500, startTime}).catch(() => terminate(master.pid, {graceMs: 1_000, startTime}))
  }
  for (const worker of workers) await terminate(worker.pid, {graceMs: 500, startTime: worker.startTime})
  await stopHaproxies(unrecordedHaproxies(paths))
  rmSync(paths.identity, {force: true})
}

/**
 * Ends HAProxy processes found by `unrecordedHaproxies`: a soft stop (SIGUSR1: listeners
 * closed; a worker exits once its connections have ended), then SIGKILL after `graceMs`
 * (default 500 ms: for processes that serve no one). The start time found with each guards
 * against a PID recycled meanwhile.
 */
export async function stopHaproxies(found: readonly {pid: number; startTime: number}[], options: {graceMs?: number} = {}): Promise<void> {
  const graceMs = options.graceMs ?? 500
  await Promise.all(found.map(({pid, startTime}) => terminate(pid, {signal: 'SIGUSR1', graceMs, startTime})))
}

/**
 * HAProxy processes (by /proc/PID/exe) whose command line loads `paths.config`, other than
 * the recorded master and its workers (a worker is forked with the master's command line).
 */
export function unrecordedHaproxies(paths: Pick<PoolPaths, 'config' | 'identity'>, candidates?: readonly ProcessInfo[]): ProcessInfo[] {
  const {record, verdict} = masterIdentity(paths)
  const master = record && verdict.state !== 'not-ours' ? record.pid : undefined
  const loading = (argv: readonly string[]) => argv[0]?.endsWith('haproxy') === true && argv.includes(paths.config)
  // `candidates`: one pass over /proc shared by many entries (sync's inventory).
  return (candidates ? candidates.filter((found) => loading(found.argv)) : findProcesses(loading)).filter(
    (found) => found.pid !== master && readProcessStat(found.pid)?.ppid !== master && isHaproxyProgram(observeProcess(found.pid)?.exe),
  )
}

export function isHaproxyProgram(exe: string | undefined): boolean {
  return exe !== undefined && /\/haproxy(?: \(deleted\))?$/.test(exe)
}

/** Workers the master lists that are still its children (a worker PID recycled since is not). */
async function workerPids(paths: PoolPaths, masterPid: number): Promise<{pid: number; startTime: number}[]> {
  let pids: number[]
  try {
    const proc = await showProc(paths.masterSocket, {timeoutMs: 1_000, connectRetryMs: 200})
    pids = [...proc.workers, ...proc.old_workers].map((entry) => entry.pid)
  } catch {
    return []
  }
  return pids.flatMap((pid) => {
    const stat = readProcessStat(pid)
    return stat && stat.ppid === masterPid ? [{pid, startTime: stat.startTime}] : []
  })
}

/** HAProxy drops privileges to Debian's `haproxy` account, or to nobody/nogroup elsewhere. */
export function haproxyAccount(): {user: string; group: string} {
  const has = (file: string, name: string) =>
    existsSync(file) && readFileSync(file, 'utf8').split('\n').some((line) => line.startsWith(`${name}:`))
  return {
    user: has('/etc/passwd', 'haproxy') ? 'haproxy' : 'nobody',
    group: has('/etc/group', 'haproxy') ? 'haproxy' : 'nogroup',
  }
}

/** The pool's HAProxy as proven ours (SPEC §4.7): the recorded master, then its workers; [] when it does not run. */
export async function provenHaproxy(paths: PoolPaths): Promise<{pid: number; startTime: number}[]> {
  const {record, verdict} = masterIdentity(paths)
  if (!record || verdict.state !== 'running') return []
  return [{pid: record.pid, startTime: record.start_time}, ...(await workerPids(paths, record.pid))]
}

/**
 * A crash, for demos: SIGKILL to those of `pids` that are this pool's proven HAProxy (any
 * other PID is refused). The identity record stays, so a watchdog finds a dead HAProxy and
 * restarts it. Returns the PIDs it killed.
 */
export async function crashHaproxy(paths: PoolPaths, pids: readonly number[]): Promise<number[]> {
  const proven = await provenHaproxy(paths)
  const killed: number[] = []
  for (const pid of pids) {
    const found = proven.find((process) => process.pid === pid)
    if (!found) throw new RuntimeFailure('not_ours', `PID ${pid} is not the HAProxy lbaas started for ${paths.dir} (SPEC §4.7): not signalled`)
    if ((await terminate(pid, {signal: 'SIGKILL', startTime: found.startTime, graceMs: 2_000})) !== 'not-running') killed.push(pid)
  }
  return killed
}
