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
import {openStore, type Store} from '../store/db.js'
import {recordedHostLimits, recordHostLimits} from '../store/host-limits.js'
import {AgentExecutor} from '../agent/executor.js'
import {lazyGearmanTransport} from '../agent/transport.js'
import {getHaLocalPeer} from '../store/ha.js'
import {defaultRunDir, defaultStatePath, type AppContext, type Notifier} from './context.js'
import type {PoolExecutor} from '../executor/port.js'
import {haExecutorFor} from './ha.js'

/** A PoolExecutor whose implementation is loaded by its first call. */
function deferred(load: () => Promise<PoolExecutor>, name: string): PoolExecutor {
  return {
    name,
    deploy: async (...args) => (await load()).deploy(...args),
    applyRuntime: async (...args) => (await load()).applyRuntime(...args),
    rotateCertificates: async (graph, previous, hooks) => {
      const executor = await load()
      return executor.rotateCertificates ? executor.rotateCertificates(graph, previous, hooks) : executor.deploy(graph, hooks)
    },
    undeploy: async (...args) => (await load()).undeploy(...args),
    liveStats: async (...args) => (await load()).liveStats(...args),
    ensureSubnet: async (...args) => (await load()).ensureSubnet(...args),
    removeSubnet: async (...args) => (await load()).removeSubnet(...args),
  }
}

/**
 * The open-file hard limit rendering is shaped by: the one recorded in the state file, or,
 * on first use, this process's (recorded then, so every later caller renders the same).
 */
export function recordedOpenFiles(store: Store): number {
  const recorded = store.read(() => recordedHostLimits(store.db))
  if (recorded) return recorded.openFilesHard
  return store.write(() => {
    recordHostLimits(store.db, readFdLimit().hard, false)
    return recordedHostLimits(store.db)!.openFilesHard
  })
}

/** This agent's peer of an HA pool (SPEC §11), when it hosts one for `poolId`. */
function haPeerExecutor(store: Store, runDir: string, poolId: string | undefined, host: () => Promise<LocalExecutor>): PoolExecutor | undefined {
  const row = poolId ? store.read(() => getHaLocalPeer(store.db, poolId)) : undefined
  if (!row) return undefined
  const assignment = {role: row.role, virtualRouterId: row.virtual_router_id, addresses: {a: row.address_a, b: row.address_b}}
  return deferred(async () => new (await import('../host/ha-peer.js')).HaPeerExecutor(await host(), runDir, assignment), 'local')
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
  let safeLimit: number | undefined
  const safeConnectionLimit = () => (safeLimit ??= safeMaxConn(recordedOpenFiles(store)))
  let localInstance: Promise<LocalExecutor> | undefined
  const hostExecutor = () =>
    (localInstance ??= Promise.all([import('../host/executor.js'), import('../host/haproxy-process.js')]).then(
      ([{LocalExecutor}, {haproxyAccount}]) => new LocalExecutor({runDir, maxconn: safeConnectionLimit(), ...haproxyAccount(), notify: options.notify}),
    ))
  const local: PoolExecutor = {
    ...deferred(hostExecutor, 'local'),
    // As LocalExecutor.liveStats, without loading the executor: `metrics serve` reads every pool this way.
    liveStats: async (graph) => (await import('../host/live-stats.js')).readLiveStats(runDir, graph.pool.id, graph.pool.id),
  }
  // LBAAS_GEARMAN_SERVERS makes this CLI a controller; the Gearman modules load on first use.
  const agentTransport = lazyGearmanTransport(process.env)
  const context: AppContext = {
    store,
    statePath,
    runDir,
    executorFor: (pool) =>
      haPeerExecutor(store, runDir, pool.id, hostExecutor) ??
      haExecutorFor(store, agentTransport, pool.id) ??
      (pool.agent === 'local' ? local : new AgentExecutor(pool.agent, agentTransport, store)),
    localExecutor: local,
    hostInspector: hostExecutor,
    processHost: hostExecutor,
    agentTransport,
    withPoolLock: async (poolId, work) => (await import('../host/lock.js')).withPoolLock(runDir, poolId, work),
    safeConnectionLimit,
    notify: options.notify,
    // The worker's modules load only when a device is there.
    device: {
      restore: async () => void (await (await import('../worker/libra/device.js')).restoreDevice(context)),
      renderStored: async () => (await import('../worker/libra/device.js')).renderStoredDevice(context),
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
  const store = openStore(statePath)
  return {
    store,
    statePath,
    runDir,
    executorFor: () => options.executor,
    localExecutor: options.executor,
    hostInspector: noHost,
    processHost: noHost,
    withPoolLock: async (poolId, work) => (await import('../host/lock.js')).withPoolLock(runDir, poolId, work),
    safeConnectionLimit: () => options.safeConnectionLimit ?? safeMaxConn(recordedOpenFiles(store)),
    notify: options.notify,
    device: {restore: async () => undefined, renderStored: async () => null},
  }
}
