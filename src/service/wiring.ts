/**
 * The only place that chooses adapters: the state file, the pool lock, host limits, and
 * which executor runs a pool's work.
 */
import {resolve} from 'node:path'

import {LocalExecutor} from '../host/executor.js'
import {haproxyAccount} from '../host/haproxy-process.js'
import {withPoolLock} from '../host/lock.js'
import {readFdLimit, safeMaxConn} from '../host/limits.js'
import {openStore} from '../store/db.js'
import {AgentExecutor, lazyGearmanTransport} from './agents.js'
import {defaultRunDir, defaultStatePath, type AppContext, type Notifier} from './context.js'

export function openAppContext(options: {state?: string; runDir?: string; notify: Notifier}): AppContext {
  const statePath = resolve(options.state ?? defaultStatePath())
  const runDir = resolve(options.runDir ?? defaultRunDir(statePath))
  const store = openStore(statePath)
  const safeLimit = safeMaxConn(readFdLimit().hard)
  const local = new LocalExecutor({runDir, maxconn: safeLimit, ...haproxyAccount(), notify: options.notify})
  // LBAAS_GEARMAN_SERVERS makes this CLI a controller; the Gearman modules load on first use.
  const agentTransport = lazyGearmanTransport(process.env)
  const context: AppContext = {
    store,
    statePath,
    runDir,
    executorFor: (pool) => (pool.agent === 'local' ? local : new AgentExecutor(pool.agent, agentTransport, store)),
    localExecutor: local,
    agentTransport,
    withPoolLock: (poolId, work) => withPoolLock(runDir, poolId, work),
    safeConnectionLimit: () => safeLimit,
    notify: options.notify,
    // The worker's modules load only when a device is there to restore.
    restoreDevice: async () => void (await (await import('../worker/device.js')).restoreDevice(context)),
  }
  return context
}
