/**
 * The only place that chooses adapters: the state file, the pool lock, host limits, and
 * which executor runs a pool's work: this host's, a pool's agent, or none at all
 * (LBAAS_EXECUTOR=noop: every pool's work is recorded and nothing on the host is touched).
 * The host and worker modules load on first use, so a command that only reads the state
 * file does not pay for them at start-up.
 */
import {resolve} from 'node:path'

import {EXIT, LbaasError} from '../domain/errors.js'

import {NoopExecutor} from '../executor/noop.js'
import type {LocalExecutor} from '../host/executor.js'
import {readFdLimit, safeMaxConn} from '../host/fd-limit.js'
import {openStore} from '../store/db.js'
import {AgentExecutor} from '../agent/executor.js'
import {lazyGearmanTransport} from '../agent/transport.js'
import {defaultRunDir, defaultStatePath, type AppContext, type Notifier} from './context.js'
import type {PoolExecutor} from '../executor/port.js'

/** A PoolExecutor whose implementation is loaded by its first call. */
function deferred(load: () => Promise<PoolExecutor>, name: string): PoolExecutor {
  return {
    name,
    deploy: async (...args) => (await load()).deploy(...args),
    applyRuntime: async (...args) => (await load()).applyRuntime(...args),
    undeploy: async (...args) => (await load()).undeploy(...args),
    liveStats: async (...args) => (await load()).liveStats(...args),
    ensureSubnet: async (...args) => (await load()).ensureSubnet(...args),
    removeSubnet: async (...args) => (await load()).removeSubnet(...args),
  }
}

export interface ContextOptions {
  state?: string
  runDir?: string
  notify: Notifier
  /**
   * Runs every pool's work through this executor instead of the host's or an agent's (a
   * NoopExecutor, or a test's recording one). Default: a NoopExecutor when
   * LBAAS_EXECUTOR=noop, otherwise the host and the agents.
   */
  executor?: PoolExecutor
  /** With `executor`: the connection_limit ceiling instead of this host's (tests pin it). */
  safeConnectionLimit?: number
}

/** LBAAS_EXECUTOR: unset or `local` (the host and agents), or `noop`. */
export function executorFromEnv(env: NodeJS.ProcessEnv = process.env): PoolExecutor | undefined {
  const choice = env.LBAAS_EXECUTOR
  if (choice === undefined || choice === '' || choice === 'local') return undefined
  if (choice === 'noop') return new NoopExecutor()
  throw new LbaasError('invalid_executor', EXIT.usage, `LBAAS_EXECUTOR: unknown executor ${JSON.stringify(choice)}`, 'use local (the default) or noop')
}

export function openAppContext(options: ContextOptions): AppContext {
  const executor = options.executor ?? executorFromEnv()
  if (executor) return inertContext({...options, executor})
  const statePath = resolve(options.state ?? defaultStatePath())
  const runDir = resolve(options.runDir ?? defaultRunDir(statePath))
  const store = openStore(statePath)
  const safeLimit = safeMaxConn(readFdLimit().hard)
  let localInstance: Promise<LocalExecutor> | undefined
  const hostExecutor = () =>
    (localInstance ??= Promise.all([import('../host/executor.js'), import('../host/haproxy-process.js')]).then(
      ([{LocalExecutor}, {haproxyAccount}]) => new LocalExecutor({runDir, maxconn: safeLimit, ...haproxyAccount(), notify: options.notify}),
    ))
  const local = deferred(hostExecutor, 'local')
  // LBAAS_GEARMAN_SERVERS makes this CLI a controller; the Gearman modules load on first use.
  const agentTransport = lazyGearmanTransport(process.env)
  const context: AppContext = {
    store,
    statePath,
    runDir,
    executorFor: (pool) => (pool.agent === 'local' ? local : new AgentExecutor(pool.agent, agentTransport, store)),
    localExecutor: local,
    hostInspector: hostExecutor,
    processHost: hostExecutor,
    agentTransport,
    withPoolLock: async (poolId, work) => (await import('../host/lock.js')).withPoolLock(runDir, poolId, work),
    safeConnectionLimit: () => safeLimit,
    notify: options.notify,
    // The worker's modules load only when a device is there.
    device: {
      restore: async () => void (await (await import('../worker/device.js')).restoreDevice(context)),
      renderStored: async () => (await import('../worker/device.js')).renderStoredDevice(context),
    },
  }
  return context
}

/**
 * A context whose every pool goes to one executor that does not touch the host: no host
 * inspection, no Libra device, nothing started. The pool lock is the real one (files in the
 * run dir, no root needed), so concurrent commands still serialise.
 */
function inertContext(options: ContextOptions & {executor: PoolExecutor}): AppContext {
  const statePath = resolve(options.state ?? defaultStatePath())
  const runDir = resolve(options.runDir ?? defaultRunDir(statePath))
  const noHost = () => Promise.reject(new Error(`the ${options.executor.name} executor touches nothing on the host`))
  return {
    store: openStore(statePath),
    statePath,
    runDir,
    executorFor: () => options.executor,
    localExecutor: options.executor,
    hostInspector: noHost,
    processHost: noHost,
    withPoolLock: async (poolId, work) => (await import('../host/lock.js')).withPoolLock(runDir, poolId, work),
    safeConnectionLimit: () => options.safeConnectionLimit ?? safeMaxConn(readFdLimit().hard),
    notify: options.notify,
    device: {restore: async () => undefined, renderStored: async () => null},
  }
}
