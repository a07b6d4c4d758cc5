/**
 * Supervising one HAProxy per pool without systemd: a master-worker process started inside
 * the pool's namespace (`haproxy -W -D -S master.sock`), reloaded through its master socket
 * (listeners pass to the new worker over a socketpair, so no connection is dropped:
 * probe.md §4), and judged alive from /proc (PID 1 here reaps zombies late).
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {chmodSync, existsSync, readFileSync} from 'node:fs'

import {ConfigRejectedError, RuntimeFailure} from '../domain/errors.js'
import {reloadAndWait, showInfo, showProc, type ReloadOutcome} from '../haproxy/runtime.js'
import type {PoolPaths} from './names.js'
import {namespaceExists} from './netns.js'
import {findProcesses, isAlive, readPidFile, terminate} from './proc.js'
import {run} from './run.js'

/** The running master's PID, from the pid file HAProxy writes; undefined when not running. */
export function runningMaster(paths: Pick<PoolPaths, 'pidFile'>): number | undefined {
  const recorded = readPidFile(paths.pidFile)
  return recorded && isAlive(recorded.pid) ? recorded.pid : undefined
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
export async function startHaproxy(paths: PoolPaths, namespace: string | null): Promise<void> {
  if (paths.masterSocket.includes(',')) {
    throw new RuntimeFailure('run_dir_unusable', `the run dir must not contain a comma (HAProxy's -S syntax): ${paths.masterSocket}`)
  }
  await run(['haproxy', '-W', '-D', '-S', `${paths.masterSocket},mode,600`, '-p', paths.pidFile, '-f', paths.config], {
    netns: namespace ?? undefined,
    timeoutMs: 30_000,
    what: `starting HAProxy${namespace ? ` in ${namespace}` : ''}`,
  })
  await waitForWorker(paths)
  privatePidFile(paths)
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

async function waitForWorker(paths: PoolPaths, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await showInfo(paths.statsSocket, {timeoutMs: 1_000})
      return
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
 * moment), then SIGTERM and SIGKILL. Also ends any HAProxy still running from this pool's
 * configuration without a pid file (a crash between start and the pid file, or an orphan
 * worker). Idempotent.
 */
export async function stopHaproxy(paths: PoolPaths): Promise<void> {
  const master = runningMaster(paths)
  const workers = master ? await workerPids(paths) : []
  if (master) await terminate(master, {signal: 'SIGUSR1', graceMs: 500}).catch(() => terminate(master, {graceMs: 1_000}))
  for (const pid of workers) await terminate(pid, {graceMs: 500})
  for (const orphan of findProcesses((argv) => argv[0]?.endsWith('haproxy') === true && argv.includes(paths.config))) {
    await terminate(orphan.pid, {graceMs: 500})
  }
}

async function workerPids(paths: PoolPaths): Promise<number[]> {
  try {
    const proc = await showProc(paths.masterSocket, {timeoutMs: 1_000, connectRetryMs: 200})
    return [...proc.workers, ...proc.old_workers].map((entry) => entry.pid)
  } catch {
    return []
  }
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
