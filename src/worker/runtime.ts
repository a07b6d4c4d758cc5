/**
 * `lbaas serve-worker` (SPEC §5): a Gearman worker for one function on every listed job
 * server, answering Libra's messages (`hpcs_action`, the one Libra device of this host) and
 * this project's native messages (`lbaas_action`, pools placed here by a controller).
 *
 * Contract:
 * - Every job gets WORK_COMPLETE with a JSON object, whatever its bytes; nothing a job
 *   sends stops the worker.
 * - Quick jobs (STATS, METRICS, DISCOVER, DIAGNOSTICS, native STATS/DISCOVER) run at once;
 *   slow ones run in order per pool (per device for Libra), at most `concurrency` at a time.
 *   The two have separate budgets (QUICK_JOB_SLOTS, SLOW_JOB_BACKLOG): up to
 *   SLOW_JOB_BACKLOG slow jobs queued never delay a ping.
 * - One log line per job: action, pool, result, duration.
 * - `stop()` (SIGTERM/SIGINT in `serveWorker`) stops taking jobs, finishes the running
 *   ones, unregisters from every job server and closes the state file.
 */
import {hostname} from 'node:os'

import {LbaasError, UsageError} from '../domain/errors.js'
import {GearmanWorker, type GearmanJob} from '../gearman/worker.js'
import {formatServer, parseServerAddress, type ServerAddress, type TlsFiles} from '../gearman/connection.js'
import {isFunctionName} from '../gearman/function-name.js'
import {DEFAULT_JOB_SERVER, gearmanSettings} from '../gearman/settings.js'
import {AGENT_CLIENT_ID, QUICK_NATIVE_ACTIONS} from '../agent/protocol.js'
import {haPeerStatus} from '../host/ha-peer.js'
import {runningMaster} from '../host/haproxy-process.js'
import {poolPaths} from '../host/names.js'
import {applyPool} from '../service/apply.js'
import type {AppContext, Notifier} from '../service/context.js'
import {getHaLocalPeer} from '../store/ha.js'
import {listPools} from '../store/pools.js'
import {uploadToSwift} from './libra/archive.js'
import {recordJobEvent} from '../service/audit.js'
import {handleLibra, type LibraControllerOptions} from './libra/controller.js'
import {runDiagnostics} from './libra/diagnostics.js'
import {ERROR_FIELD, FAIL, isObject, LIBRA_ACTIONS, QUICK_LIBRA_ACTIONS, RESPONSE_FIELD} from './libra/messages.js'
import {devicePlacement, LibraDevice, type DevicePlacementRequest} from './libra/device.js'
import {openWorkerLog, type WorkerLog} from './log.js'
import {handleNative, lockedElsewhere, nativeJobKey, type NativeEnvironment} from './native.js'
import {JobScheduler, type Lane} from './scheduler.js'
import {lbaasVersion} from './version.js'
import type {ProcessHost} from '../host/executor.js'

/** Quick jobs (pings) held at once; slow jobs never use this room. */
export const QUICK_JOB_SLOTS = 32
/**
 * Slow jobs taken from the job servers and queued here (at most `concurrency` of them run).
 * Gearman hands jobs out in arrival order, so a STATS queued behind slow jobs is reached
 * only once the worker has taken those: taking them into this queue, instead of leaving
 * them with the job server, is what keeps pings answered behind a backlog. Bounded so a
 * flood cannot hold the job server's whole queue in memory.
 */
export const SLOW_JOB_BACKLOG = 1024
export const DEFAULT_CONCURRENCY = 4
const STOP_TIMEOUT_MS = 120_000
/** How often the worker checks that the HAProxy of its device and of its hosted pools still runs. */
export const WATCHDOG_INTERVAL_MS = 2_000
const WATCHDOG_MAX_BACKOFF_MS = 60_000
/**
 * How long the watchdog leaves a dead HAProxy of an HA peer alone while its keepalived still
 * holds MASTER: keepalived's check (1 s interval, 2 s timeout, fall 2) hands the VIP to the
 * other peer first, and this peer comes back as BACKUP. Restarting at once would race the
 * check and leave the VIP on a host that has just lost its traffic. Past this, the peer's
 * keepalived is not handing over (its check or the other peer is broken): restart anyway.
 */
export const HA_HANDOVER_GRACE_MS = 8_000

export interface ServeWorkerOptions {
  state?: string
  runDir?: string
  /** HOST:PORT of each job server; empty: LBAAS_GEARMAN_SERVERS, then 127.0.0.1:4730. */
  servers?: readonly string[]
  /** Default: the host name, as Libra registered. */
  functionName?: string
  concurrency?: number
  tls?: TlsFiles
  deviceSubnet?: string
  deviceAddress?: string
  diagnosticsTargets?: readonly string[]
  logFile?: string
  debug?: boolean
  env?: NodeJS.ProcessEnv
  /** Watchdog period (default WATCHDOG_INTERVAL_MS); 0 turns it off. */
  watchdogMs?: number
}

interface JobPlan {
  lane: Lane
  key: string
  protocol: 'libra' | 'lbaas' | 'invalid'
  action: string
  execute(): Promise<{response: Record<string, unknown>; result: string; pool?: string; error?: string}>
}

/** `--server` values, or LBAAS_GEARMAN_SERVERS (comma or space separated), or 127.0.0.1:4730. */
export function jobServers(given: readonly string[] | undefined, env: NodeJS.ProcessEnv): ServerAddress[] {
  // The worker's TLS files come from its flags (which read LBAAS_GEARMAN_TLS_* themselves).
  const {servers} = gearmanSettings({servers: given, env, fallback: DEFAULT_JOB_SERVER, tls: {}})
  if (servers.length === 0) throw new UsageError('no Gearman job server given', 'use --server HOST:PORT or LBAAS_GEARMAN_SERVERS')
  return servers
}

export function checkFunctionName(name: string): string {
  if (!isFunctionName(name)) {
    throw new UsageError(`--function ${JSON.stringify(name)} must be 1-255 characters without spaces`, undefined, 'invalid_function')
  }
  return name
}

function invalidJob(error: string): JobPlan['execute'] {
  return async () => ({response: {[RESPONSE_FIELD]: FAIL, [ERROR_FIELD]: error}, result: 'FAIL', error})
}

export class WorkerRuntime {
  readonly functionName: string
  readonly servers: ServerAddress[]
  private readonly scheduler: JobScheduler
  private readonly gearman: GearmanWorker
  private readonly device: LibraDevice
  private readonly libra: LibraControllerOptions
  private readonly native: NativeEnvironment
  private stopping: Promise<void> | undefined
  private readonly watchdogMs: number
  private watchdogTimer: NodeJS.Timeout | undefined
  /** Keys whose restore by the watchdog failed: when to try again. */
  private readonly retryAfter = new Map<string, {failures: number; at: number}>()
  /** HA peers found without HAProxy while keepalived still held MASTER: since when. */
  private readonly handingOver = new Map<string, number>()

  constructor(
    private readonly ctx: AppContext,
    private readonly log: WorkerLog,
    executor: ProcessHost,
    options: Omit<ServeWorkerOptions, 'servers'> & {servers: ServerAddress[]; targets: ServerAddress[]},
  ) {
    this.functionName = checkFunctionName(options.functionName ?? hostname())
    this.servers = options.servers
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
    this.watchdogMs = options.watchdogMs ?? WATCHDOG_INTERVAL_MS
    this.scheduler = new JobScheduler(concurrency)
    this.device = new LibraDevice(ctx, executor)
    const version = lbaasVersion()
    this.libra = {
      device: this.device,
      version,
      release: `lbaas ${version}`,
      diagnostics: () => runDiagnostics(this.servers, options.targets),
      upload: uploadToSwift,
    }
    this.native = {
      ctx,
      device: this.device,
      functionName: this.functionName,
      concurrency,
      runningJobs: () => this.gearman.runningJobs,
      busy: (poolId) => this.scheduler.busy(`pool:${poolId}`),
    }
    this.gearman = new GearmanWorker(
      {
        servers: this.servers,
        functionName: this.functionName,
        clientId: AGENT_CLIENT_ID,
        lanes: {
          laneOf: (job) => this.laneOf(job.payload),
          limits: {quick: QUICK_JOB_SLOTS, slow: SLOW_JOB_BACKLOG},
        },
        tls: options.tls,
        logger: (level, message) => this.log.write(level, 'gearman', {message}),
      },
      (job) => this.handle(job),
    )
    this.gearman.on('connected', (server) => this.log.write('info', 'connected', {server: formatServer(server)}))
    this.gearman.on('disconnected', (server) => this.log.write('warn', 'disconnected', {server: formatServer(server)}))
  }

  /** Where the Libra device runs (before `start`). */
  configureDevice(placement: DevicePlacementRequest): Promise<void> {
    return this.device.configure(placement)
  }

  /**
   * Restores the Libra device (before taking jobs: Libra's STATS pings then see it as it was)
   * and queues the hosted pools' restores ahead of any job for them, then takes jobs.
   */
  async start(): Promise<void> {
    await this.scheduler.run('slow', 'device', async () => {
      try {
        const restored = await this.device.restore()
        this.log.write('info', 'restore', {pool: 'device', state: restored.state, changed: restored.changed})
      } catch (error) {
        this.log.write('error', 'restore', {pool: 'device', error: (error as Error).message})
      }
    })
    const hosted = listPools(this.ctx.store.db).filter((pool) => pool.agent === 'local' && pool.vip_id !== null)
    for (const pool of hosted) {
      void this.scheduler.run('slow', `pool:${pool.id}`, async () => {
        try {
          const outcome = await applyPool(this.ctx, pool.id, {})
          this.log.write('info', 'restore', {pool: pool.id, state: outcome?.state, changed: outcome?.reloaded})
        } catch (error) {
          this.log.write('error', 'restore', {pool: pool.id, error: (error as Error).message})
        }
      })
    }
    if (this.stopping) return
    this.gearman.start()
    if (this.watchdogMs > 0) {
      this.watchdogTimer = setInterval(() => this.watch(), this.watchdogMs)
      this.watchdogTimer.unref()
    }
    this.log.write('info', 'serving', {
      function: this.functionName,
      servers: this.servers.map(formatServer).join(','),
      concurrency: this.scheduler.concurrency,
      device: this.device.describe().mode,
      version: lbaasVersion(),
    })
  }

  /** Stops taking jobs, lets running ones finish, unregisters, closes the state file. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.watchdogTimer)
      this.log.write('info', 'stopping', {running_jobs: this.gearman.runningJobs})
      await this.gearman.stop(STOP_TIMEOUT_MS)
      await this.scheduler.idle()
      this.ctx.store.close()
      this.log.write('info', 'stopped', {function: this.functionName})
    })()
    return this.stopping
  }

  /**
   * An HAProxy killed behind the worker's back (OOM killer, an operator's kill) comes back
   * without waiting for a job or `lbaas sync`: the device (when ACTIVE) and every hosted
   * pool with a VIP whose master is gone are restored through the scheduler, behind the
   * jobs of their key. Work another process holds the lock for is left to it; a restore
   * that fails is retried with a growing pause.
   */
  private watch(): void {
    if (this.stopping) return
    try {
      const device = this.device.describe()
      if (device.state === 'ACTIVE' && !device.running) this.revive('device', device.id, () => this.device.restore())
      for (const pool of listPools(this.ctx.store.db)) {
        if (pool.agent !== 'local' || pool.vip_id === null) continue
        if (runningMaster(poolPaths(this.ctx.runDir, pool.id)) !== undefined) {
          this.handingOver.delete(pool.id)
          continue
        }
        if (this.awaitingHandover(pool.id)) continue
        this.revive(`pool:${pool.id}`, pool.id, () => applyPool(this.ctx, pool.id, {}))
      }
    } catch (error) {
      this.log.write('error', 'watchdog', {error: (error as Error).message})
    }
  }

  /** True while an HA peer of this host lost its HAProxy but keepalived has not yet handed the VIP over (HA_HANDOVER_GRACE_MS). */
  private awaitingHandover(poolId: string): boolean {
    const peer = getHaLocalPeer(this.ctx.store.db, poolId)
    if (!peer || haPeerStatus(this.ctx.runDir, poolId, peer.role).vrrpState !== 'MASTER') {
      this.handingOver.delete(poolId)
      return false
    }
    const since = this.handingOver.get(poolId)
    if (since === undefined) {
      this.handingOver.set(poolId, Date.now())
      this.log.write('warn', 'watchdog', {pool: poolId, message: 'HAProxy is not running on the MASTER peer: leaving keepalived to hand the VIP over first'})
      return true
    }
    return Date.now() - since < HA_HANDOVER_GRACE_MS
  }

  private revive(key: string, id: string, restore: () => Promise<unknown>): void {
    const backoff = this.retryAfter.get(key)
    if (this.scheduler.busy(key) || lockedElsewhere(this.ctx, id) || (backoff && Date.now() < backoff.at)) return
    const pool = key === 'device' ? 'device' : id
    this.log.write('warn', 'watchdog', {pool, message: 'HAProxy is not running: restoring it'})
    void this.scheduler.run('slow', key, async () => {
      try {
        await restore()
        this.retryAfter.delete(key)
        this.log.write('info', 'restore', {pool, reason: 'watchdog'})
      } catch (error) {
        const failures = (backoff?.failures ?? 0) + 1
        this.retryAfter.set(key, {failures, at: Date.now() + Math.min(WATCHDOG_MAX_BACKOFF_MS, this.watchdogMs * 2 ** failures)})
        this.log.write('error', 'restore', {pool, reason: 'watchdog', error: (error as Error).message})
      }
    })
  }

  private handle(job: GearmanJob): Promise<string> {
    const started = performance.now()
    let plan: JobPlan
    try {
      plan = this.plan(job.payload)
    } catch (error) {
      plan = {lane: 'quick', key: 'invalid', protocol: 'invalid', action: '', execute: invalidJob(`internal error: ${(error as Error).message}`)}
    }
    return this.scheduler.run(plan.lane, plan.key, plan.execute).then(
      (outcome) => {
        this.logJob(job, plan, outcome.result, started, outcome.pool, outcome.error)
        return JSON.stringify(outcome.response)
      },
      (error: unknown) => {
        const message = error instanceof LbaasError || error instanceof Error ? error.message : String(error)
        this.logJob(job, plan, 'FAIL', started, undefined, message)
        return JSON.stringify({[RESPONSE_FIELD]: FAIL, [ERROR_FIELD]: `internal error: ${message}`})
      },
    )
  }

  private laneOf(payload: Buffer): Lane {
    try {
      return this.plan(payload).lane
    } catch {
      return 'quick'
    }
  }

  /** Decides, synchronously (arrival order is queue order), where the job waits and what runs. */
  private plan(payload: Buffer): JobPlan {
    let request: unknown
    try {
      request = JSON.parse(payload.toString('utf8'))
    } catch (error) {
      const detail = (error as Error).message.slice(0, 200)
      return {lane: 'quick', key: 'invalid', protocol: 'invalid', action: '', execute: invalidJob(`Job data is not valid JSON: ${detail}`)}
    }
    if (!isObject(request)) {
      const kind = Array.isArray(request) ? 'a list' : request === null ? 'null' : `a ${typeof request}`
      return {lane: 'quick', key: 'invalid', protocol: 'invalid', action: '', execute: invalidJob(`Job data must be a JSON object, not ${kind}`)}
    }
    if ('lbaas_action' in request) {
      const action = typeof request.lbaas_action === 'string' ? request.lbaas_action.toUpperCase() : ''
      return {
        lane: QUICK_NATIVE_ACTIONS.has(action) ? 'quick' : 'slow',
        key: nativeJobKey(request),
        protocol: 'lbaas',
        action,
        execute: () => handleNative(request, this.native),
      }
    }
    const action = typeof request.hpcs_action === 'string' ? request.hpcs_action.toUpperCase() : ''
    const slow = (LIBRA_ACTIONS as readonly string[]).includes(action) && !QUICK_LIBRA_ACTIONS.has(action)
    return {
      lane: slow ? 'slow' : 'quick',
      // ARCHIVE only reads: it need not wait for an UPDATE, nor hold one up.
      key: action === 'ARCHIVE' ? 'device-archive' : 'device',
      protocol: 'libra',
      action,
      execute: async () => {
        const outcome = await handleLibra(request, this.libra)
        return {response: outcome.response, result: outcome.result, pool: 'device', error: outcome.error}
      },
    }
  }

  private logJob(job: GearmanJob, plan: JobPlan, result: string, started: number, pool: string | undefined, error: string | undefined): void {
    recordJobEvent(this.ctx.store, {protocol: plan.protocol, action: plan.action, pool, result, error, handle: job.handle})
    this.log.write(result === 'PASS' ? 'info' : 'warn', 'job', {
      protocol: plan.protocol,
      action: plan.action || undefined,
      pool,
      result,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
      handle: job.handle,
      error: error?.split('\n')[0]?.slice(0, 300),
    })
  }
}

function workerNotifier(log: WorkerLog): Notifier {
  return {
    warn: (message) => log.write('warn', 'warning', {message}),
    info: (message) => log.write('debug', 'info', {message}),
    async step(title, work) {
      const started = performance.now()
      const result = await work()
      log.write('debug', 'step', {step: title, duration_ms: Math.round(performance.now() - started)})
      return result
    },
  }
}

/**
 * Opens the worker's own state file and run dir, checks the options, starts, and runs
 * until SIGTERM or SIGINT (a second signal exits at once). Throws UsageError for bad
 * options before connecting anywhere.
 */
export async function serveWorker(options: ServeWorkerOptions): Promise<void> {
  const env = options.env ?? process.env
  const servers = jobServers(options.servers, env)
  const targets = (options.diagnosticsTargets ?? []).map((text) => parseServerAddress(text))
  const placement = devicePlacement(options.deviceSubnet, options.deviceAddress)
  const log = openWorkerLog({file: options.logFile, debug: options.debug})
  const {openAppContext} = await import('../service/wiring.js')
  const ctx = openAppContext({state: options.state, runDir: options.runDir, notify: workerNotifier(log)})
  let runtime: WorkerRuntime
  try {
    runtime = new WorkerRuntime(ctx, log, await ctx.processHost(), {...options, servers, targets})
    await runtime.configureDevice(placement)
  } catch (error) {
    ctx.store.close()
    await log.close()
    throw error
  }
  let signals = 0
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++
      if (signals > 1) {
        log.write('warn', 'signal', {signal, message: 'second signal: exiting without waiting for running jobs'})
        process.exit(1)
      }
      log.write('info', 'signal', {signal})
      void runtime.stop().then(resolve)
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
  await runtime.start()
  await stopped
  await log.close()
}
