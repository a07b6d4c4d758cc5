/**
 * The only place that chooses adapters: the state file, the pool lock, host limits, and
 * which executor runs a pool's work.
 */
import {resolve} from 'node:path'

import {withPoolLock} from '../host/lock.js'
import {readFdLimit, safeMaxConn} from '../host/limits.js'
import {openStore} from '../store/db.js'
import {defaultRunDir, defaultStatePath, type AppContext, type Notifier} from './context.js'
import {noExecutor} from './executor.js'

export function openAppContext(options: {state?: string; runDir?: string; notify: Notifier}): AppContext {
  const statePath = resolve(options.state ?? defaultStatePath())
  const runDir = resolve(options.runDir ?? defaultRunDir(statePath))
  const store = openStore(statePath)
  let safeLimit: number | undefined
  return {
    store,
    statePath,
    runDir,
    executorFor: () => noExecutor,
    localExecutor: noExecutor,
    withPoolLock: (poolId, work) => withPoolLock(runDir, poolId, work),
    safeConnectionLimit: () => (safeLimit ??= safeMaxConn(readFdLimit().hard)),
    notify: options.notify,
  }
}
