/** Removing files of a run-dir entry by name (sync's and a deploy's stray files). */
import {readdirSync, rmSync} from 'node:fs'

import {InternalError} from '../domain/errors.js'
import {isStrayRunFile, temporaryOwnerPid, type PoolPaths} from './names.js'
import {isHaproxyProgram} from './haproxy-process.js'
import {observeProcess} from './identity.js'
import {readProcessStat} from './proc.js'

/** Removes `names` (plain file names, never paths) from the entry's directory. Idempotent. */
export function rmRunFiles(paths: Pick<PoolPaths, 'dir'>, names: readonly string[]): void {
  for (const name of names) {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new InternalError(`refusing to remove ${JSON.stringify(name)}`)
    rmSync(`${paths.dir}/${name}`, {force: true})
  }
}

/**
 * A temporary named after a live process is that process's work in progress, not a
 * leftover, even under the pool lock: HAProxy's master re-executes itself after its worker
 * already answers (into wait mode at start, and twice per reload) and binds its master
 * socket again as `master.sock.<pid>.tmp` before renaming it; removing that file in between
 * makes the master exit 1 and take its workers with it. A recycled PID (of an HAProxy, for
 * a socket's temporary) only keeps a stray file until that process ends; it is never
 * signalled.
 */
export function isTemporaryInUse(name: string): boolean {
  const pid = temporaryOwnerPid(name)
  // This process writes its own temporaries synchronously: one left now is a failed write.
  if (pid === undefined || pid === process.pid) return false
  const stat = readProcessStat(pid)
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false
  // A socket's temporary is HAProxy's alone: a live PID of another program does not keep it.
  return !SOCKET_TEMPORARY.test(name) || isHaproxyProgram(observeProcess(pid)?.exe)
}

const SOCKET_TEMPORARY = /^(?:stats|master)\.sock\.\d+\.(?:bak|tmp)$/

/** What `isStrayRunFile` names in the entry and no live process is still writing. */
export function strayRunFiles(files: readonly string[]): string[] {
  return files.filter((name) => isStrayRunFile(name) && !isTemporaryInUse(name))
}

/**
 * After a deploy that serves: what an earlier interrupted or refused deploy, or an HAProxy
 * killed during its socket swap, left in the entry is stale now. Removed under the pool
 * lock so a sync that redeploys the pool leaves nothing for the next sync to do.
 */
export function removeRunLeftovers(paths: Pick<PoolPaths, 'dir'>): void {
  let names: string[]
  try {
    names = readdirSync(paths.dir)
  } catch {
    return
  }
  rmRunFiles(paths, strayRunFiles(names))
}
