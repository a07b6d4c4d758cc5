/**
 * METRICS of the Libra device on this host (libra.md §2.7, §3.6): the ledger of metrics.ts
 * kept in the state file across reloads, stops and restarts of the device's HAProxy.
 *
 * A deploy that may replace the HAProxy worker, or a stop, is a counter change: the final
 * counters of the process it ends join the ledger only once that process is really gone,
 * and a METRICS reading that overlaps a change is thrown away and taken again (the reload
 * epoch). The caller holds the device lock for changes; METRICS and `show stat` take none.
 */
import {RuntimeFailure} from '../../domain/errors.js'
import {showInfo, showStat} from '../../haproxy/runtime.js'
import type {ShowStat} from '../../haproxy/stats.js'
import {runningMaster} from '../../host/haproxy-process.js'
import {poolLockPath, poolPaths, type PoolPaths} from '../../host/names.js'
import {liveLockHolder} from '../../host/lock.js'
import type {DeployOutcome, ExecutorHooks} from '../../executor/port.js'
import type {AppContext} from '../../service/context.js'
import {getDevice, listLedger, saveDevice, saveLedgerEntry, type DeviceRow} from '../../store/device.js'
import {EMPTY_ENTRY, fold, formatLibraTime, METRICS_PROTOCOLS, nowMicros, observe, report, type Ledger, type MetricsProtocol} from './metrics.js'
import {proxyFamily, storedSpec, type DeviceSpec} from './update.js'

export interface MetricsReport {
  utcStart: string
  utcEnd: string
  loadBalancers: {protocol: MetricsProtocol; bytes_out: number}[]
}

function libraFamily(backend: string): MetricsProtocol | undefined {
  return backend === 'http-servers' ? 'http' : backend === 'tcp-servers' ? 'tcp' : undefined
}

function loadLedger(db: AppContext['store']['db']): Ledger {
  const ledger: Ledger = {http: {...EMPTY_ENTRY}, tcp: {...EMPTY_ENTRY}}
  for (const row of listLedger(db)) ledger[row.protocol] = {base: row.base, lastRaw: row.last_raw, reported: row.reported}
  return ledger
}

export class DeviceCounters {
  private reloadEpoch = 0
  private reloading: Promise<void> | null = null
  private pendingStat: Promise<ShowStat> | null = null

  /** `currentRow` reads the device row afresh (LibraDevice.row). */
  constructor(
    private readonly ctx: AppContext,
    private readonly currentRow: () => DeviceRow,
  ) {}

  /** A reload or stop of this process is under way: the stats socket may be changing hands. */
  get changing(): boolean {
    return this.reloading !== null
  }

  private paths(row: DeviceRow): PoolPaths {
    return poolPaths(this.ctx.runDir, row.id)
  }

  /**
   * Runs `deploy`, and folds the final counters of the process it replaced into the ledger,
   * but only once the process really changed: a refused or rolled-back reload keeps the old
   * process counting, and folding then would count its bytes twice (Libra's defect).
   */
  async acrossDeploy(row: DeviceRow, deploy: (hooks: ExecutorHooks) => Promise<DeployOutcome>): Promise<DeployOutcome> {
    const paths = this.paths(row)
    const before = await this.workerPid(paths)
    const finals = new Map<MetricsProtocol, number>()
    let settle: (() => void) | undefined
    const hooks: ExecutorHooks = {
      countersBeforeReload: (raw, backend) => {
        this.beginCounterChange((release) => (settle = release))
        const family = libraFamily(backend)
        if (family) finals.set(family, raw.bytes_out)
      },
    }
    try {
      return await deploy(hooks)
    } finally {
      try {
        const after = await this.workerPid(paths)
        if (after !== before) this.foldLedger(finals)
      } finally {
        settle?.()
      }
    }
  }

  /** Stops (or removes) the process, folding its final counters when it is gone. */
  async acrossStop(row: DeviceRow, stop: (paths: PoolPaths) => Promise<void>): Promise<void> {
    const paths = this.paths(row)
    const before = await this.workerPid(paths)
    const finals = before === undefined ? new Map<MetricsProtocol, number>() : await this.readBytesOut(paths).catch(() => new Map())
    let settle: (() => void) | undefined
    this.beginCounterChange((release) => (settle = release))
    try {
      await stop(paths)
    } finally {
      try {
        if (before !== undefined && (await this.workerPid(paths)) === undefined) this.foldLedger(finals)
      } finally {
        settle?.()
      }
    }
  }

  private beginCounterChange(onRelease: (release: () => void) => void): void {
    if (this.reloading) return
    this.reloadEpoch++
    let release!: () => void
    const done = new Promise<void>((resolve) => (release = resolve))
    this.reloading = done
    onRelease(() => {
      if (this.reloading === done) this.reloading = null
      release()
    })
  }

  private foldLedger(finals: ReadonlyMap<MetricsProtocol, number>): void {
    const {db} = this.ctx.store
    this.ctx.store.write(() => {
      const ledger = loadLedger(db)
      for (const protocol of METRICS_PROTOCOLS) {
        const next = fold(ledger[protocol], finals.get(protocol) ?? 0)
        saveLedgerEntry(db, {protocol, base: next.base, last_raw: next.lastRaw, reported: next.reported})
      }
    })
  }

  /** The PID of the worker answering the stats socket; undefined when HAProxy is not running. */
  private async workerPid(paths: PoolPaths): Promise<number | undefined> {
    if (runningMaster(paths) === undefined) return undefined
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return (await showInfo(paths.statsSocket, {timeoutMs: 2_000})).pid
      } catch {
        // a worker being replaced; ask once more
      }
    }
    return undefined
  }

  private async readBytesOut(paths: PoolPaths): Promise<Map<MetricsProtocol, number>> {
    const stat = await this.showStat(paths)
    const bytes = new Map<MetricsProtocol, number>()
    for (const backend of stat.backends) {
      const family = libraFamily(backend.name)
      if (family) bytes.set(family, backend.bytes_out)
    }
    return bytes
  }

  /** One `show stat` for all callers asking at the same moment (STATS pings come in bursts). */
  showStat(paths: PoolPaths): Promise<ShowStat> {
    if (this.pendingStat) return this.pendingStat
    const pending = showStat(paths.statsSocket, {timeoutMs: 3_000}).finally(() => {
      if (this.pendingStat === pending) this.pendingStat = null
    })
    this.pendingStat = pending
    return pending
  }

  /**
   * METRICS: bytes_out per protocol since the last report. A reading that overlaps a reload
   * of this process is thrown away and taken again; a reload by another process (`sync`)
   * is waited for through the device lock. The ledger advances in one transaction.
   */
  async metrics(): Promise<MetricsReport | 'deleted'> {
    await this.waitForOtherProcess(this.currentRow())
    for (let attempt = 0; ; attempt++) {
      if (this.reloading) await this.reloading
      const epoch = this.reloadEpoch
      const current = this.currentRow()
      const spec = storedSpec(current)
      if (!spec || current.state === 'DELETED' || current.state === 'NONE') return 'deleted'
      const paths = this.paths(current)
      let raw: Map<MetricsProtocol, number> | null = null
      if (current.state === 'ACTIVE' && runningMaster(paths) !== undefined) {
        try {
          raw = await this.readBytesOut(paths)
        } catch {
          throw new RuntimeFailure('haproxy_socket', "HAProxy 'show stat' query failed.")
        }
      }
      if ((epoch !== this.reloadEpoch || this.reloading) && attempt < 20) continue
      return this.recordReport(spec, raw)
    }
  }

  private recordReport(spec: DeviceSpec, raw: ReadonlyMap<MetricsProtocol, number> | null): MetricsReport {
    const {db} = this.ctx.store
    return this.ctx.store.write(() => {
      const current = getDevice(db)!
      const end = nowMicros()
      const start = current.metrics_end_us === null ? end : Math.min(end, current.metrics_end_us + 1)
      const ledger = loadLedger(db)
      const configured = new Set(spec.loadBalancers.map((lb) => proxyFamily(lb.protocol)))
      const loadBalancers: MetricsReport['loadBalancers'] = []
      for (const protocol of METRICS_PROTOCOLS) {
        let entry = ledger[protocol]
        const reading = raw?.get(protocol)
        if (reading !== undefined) entry = observe(entry, reading)
        const {bytes, next} = report(entry)
        saveLedgerEntry(db, {protocol, base: next.base, last_raw: next.lastRaw, reported: next.reported})
        if (configured.has(protocol) || bytes > 0) loadBalancers.push({protocol, bytes_out: bytes})
      }
      saveDevice(db, {...current, metrics_end_us: end})
      return {utcStart: formatLibraTime(start), utcEnd: formatLibraTime(end), loadBalancers}
    })
  }

  private async waitForOtherProcess(row: DeviceRow): Promise<void> {
    const holder = liveLockHolder(poolLockPath(this.ctx.runDir, row.id))
    if (!holder || holder.pid === process.pid) return
    await this.ctx.withPoolLock(row.id, async () => undefined)
  }
}
