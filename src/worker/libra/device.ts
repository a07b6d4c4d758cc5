/**
 * The Libra device of this host (SPEC §5): one HAProxy process deployed through the local
 * executor's pipeline (`haproxy -c`, hitless reloads, rollback), either in its own
 * namespace plugged into a subnet's bridge (`--device-subnet/--device-address`) or in the
 * host's namespace bound to 0.0.0.0 as Libra did. Its state (last accepted UPDATE, suspended
 * or not, METRICS ledger) lives in the worker's state file, so a restarted worker or
 * `lbaas sync` brings it back (`restoreDevice`).
 *
 * Contract: every changing operation holds the device lock (the pool lock of the device
 * id), so the worker, `lbaas sync` and a second worker on the same state file serialise.
 * STATS, METRICS and log reads take no lock; METRICS coordinates with reloads (see
 * counters.ts). Failures throw LbaasError (ConfigRejectedError when HAProxy refused the
 * configuration: the running one is untouched).
 */
import {randomUUID} from 'node:crypto'
import {existsSync} from 'node:fs'

import {InternalError, NotFoundError, RuntimeFailure, UsageError, ValidationError} from '../../domain/errors.js'
import {canonicalAddress, isUsableHost, parseNetwork} from '../../domain/ip.js'
import type {Subnet} from '../../domain/types.js'
import {renderConfig} from '../../haproxy/render.js'
import {sendCommand} from '../../haproxy/runtime.js'
import type {ShowStat} from '../../haproxy/stats.js'
import {LOG_RING_NAME, type RenderOptions} from '../../haproxy/view.js'
import type {ProcessHost, ProcessSpec} from '../../host/executor.js'
import {haproxyAccount, runningMaster, stopHaproxy} from '../../host/haproxy-process.js'
import {namespaceFor, poolPaths, vipHostLink, type PoolPaths} from '../../host/names.js'
import {namespaceExists} from '../../host/netns.js'
import {vipPlugSpec} from '../../host/plug.js'
import type {AppContext} from '../../service/context.js'
import type {DeployOutcome} from '../../executor/port.js'
import {resolveSubnet} from '../../service/resolve.js'
import {getDevice, saveDevice, type DeviceMode, type DeviceRow, type DeviceState} from '../../store/device.js'
import {getSubnet} from '../../store/subnets.js'
import {crashPoint} from '../../util/crash-point.js'
import {DeviceCounters, type MetricsReport} from './counters.js'
import {backendName, buildDeviceView, frontendName} from './device-view.js'
import {storedSpec, type DeviceSpec} from './update.js'

/** Where the device runs, as the operator asked (`--device-subnet/--device-address`). */
export type DevicePlacementRequest = {mode: 'host'} | {mode: 'namespace'; subnet: string; address: string}

export type DeviceStatus =
  | {kind: 'deleted'}
  | {kind: 'suspended'; nodeIds: string[]}
  | {kind: 'down'}
  | {kind: 'running'; servers: {nodeServer: string; status: string}[]}

export interface DeviceDescription {
  id: string
  mode: DeviceMode
  address: string | null
  subnet_id: string | null
  state: DeviceState
  running: boolean
}

export class LibraDevice {
  private readonly executor: ProcessHost
  private readonly counters: DeviceCounters
  /** Server states of the last STATS, answered again while a reload hands the stats socket over. */
  private lastServers: {nodeServer: string; status: string}[] | null = null
  /** The last log line uploaded by ARCHIVE, so the next upload starts after it. */
  private lastArchivedLine: string | null = null

  constructor(
    private readonly ctx: AppContext,
    executor: ProcessHost,
  ) {
    this.executor = executor
    this.counters = new DeviceCounters(ctx, () => this.row())
  }

  /** The device row, created (state NONE) on first use. */
  row(): DeviceRow {
    const existing = getDevice(this.ctx.store.db)
    if (existing) return existing
    return this.ctx.store.write(() => {
      const again = getDevice(this.ctx.store.db)
      if (again) return again
      const created: DeviceRow = {
        id: randomUUID(),
        mode: 'host',
        subnet_id: null,
        address: null,
        state: 'NONE',
        config: null,
        updated_at: new Date().toISOString(),
        metrics_end_us: null,
      }
      saveDevice(this.ctx.store.db, created)
      return created
    })
  }

  private paths(row: DeviceRow = this.row()): PoolPaths {
    return poolPaths(this.ctx.runDir, row.id)
  }

  describe(): DeviceDescription {
    const row = this.row()
    return {
      id: row.id,
      mode: row.mode,
      address: row.address,
      subnet_id: row.subnet_id,
      state: row.state,
      running: runningMaster(this.paths(row)) !== undefined,
    }
  }

  /**
   * Applies the placement the worker was started with. A device that moves (host mode to
   * a namespace, another address) is removed from where it ran; `restore` deploys it again.
   */
  async configure(request: DevicePlacementRequest): Promise<void> {
    const {db} = this.ctx.store
    let placement: Pick<DeviceRow, 'mode' | 'subnet_id' | 'address'> = {mode: 'host', subnet_id: null, address: null}
    if (request.mode === 'namespace') {
      const subnet = resolveSubnet(db, request.subnet)
      const address = checkDeviceAddress(subnet, request.address)
      placement = {mode: 'namespace', subnet_id: subnet.id, address}
    }
    const row = this.row()
    if (row.mode === placement.mode && row.subnet_id === placement.subnet_id && row.address === placement.address) return
    await this.ctx.withPoolLock(row.id, async () => {
      await this.removeFromHost(row)
      const current = this.row()
      this.ctx.store.write(() => saveDevice(db, {...current, ...placement, updated_at: new Date().toISOString()}))
    })
  }

  private processSpec(row: DeviceRow, spec: DeviceSpec): ProcessSpec {
    const paths = this.paths(row)
    const options: RenderOptions = {
      statsSocket: paths.statsSocket,
      serverStateFile: paths.serverState,
      maxconn: this.ctx.safeConnectionLimit(),
      ...haproxyAccount(),
      hardStopAfter: '30s',
    }
    if (row.mode === 'host') {
      return {id: row.id, view: buildDeviceView(spec, {bindAddress: '0.0.0.0', deviceId: row.id}, options), namespace: null, plug: null}
    }
    const plug = vipPlugSpec(this.ctx.runDir, row.id, this.subnetOf(row), row.address!)
    return {id: row.id, view: buildDeviceView(spec, {bindAddress: row.address!, deviceId: row.id}, options), namespace: plug.namespace, plug}
  }

  /** Stops HAProxy and removes its files, and its namespace and plug in namespace mode. */
  private removeFromHost(row: DeviceRow): Promise<void> {
    return this.executor.removeProcess(row.id, row.mode === 'namespace' ? namespaceFor(row.id) : null, vipHostLink(row.id))
  }

  private subnetOf(row: DeviceRow): Subnet {
    const subnet = row.subnet_id ? getSubnet(this.ctx.store.db, row.subnet_id) : undefined
    if (!subnet) {
      throw new NotFoundError('subnet', row.subnet_id ?? '', 'the device subnet was deleted: restart serve-worker with another --device-subnet')
    }
    return subnet
  }

  /** The configuration text an UPDATE with `spec` would run (for tests and `sync --dry-run`). */
  render(spec: DeviceSpec): string {
    return renderConfig(this.processSpec(this.row(), spec).view)
  }

  /** UPDATE: deploys `spec` (start or hitless reload) and records it; the device is ACTIVE afterwards. */
  async update(spec: DeviceSpec): Promise<DeployOutcome> {
    const row = this.row()
    return this.ctx.withPoolLock(row.id, async () => {
      const outcome = await this.deploy(this.row(), spec)
      crashPoint('worker-update-before-record')
      this.setState('ACTIVE', spec)
      return outcome
    })
  }

  /** ENABLE: starts the last accepted configuration. */
  async enable(): Promise<void> {
    const row = this.row()
    await this.ctx.withPoolLock(row.id, async () => {
      const current = this.row()
      const spec = storedSpec(current)
      if (!spec || current.state === 'DELETED' || current.state === 'NONE') {
        throw new RuntimeFailure('device_not_configured', 'No configuration to enable: send UPDATE first')
      }
      await this.deploy(current, spec)
      this.setState('ACTIVE', spec)
    })
  }

  /** SUSPEND: stops HAProxy and keeps the configuration. */
  async suspend(): Promise<void> {
    const row = this.row()
    await this.ctx.withPoolLock(row.id, async () => {
      await this.counters.acrossStop(this.row(), (paths) => stopHaproxy(paths))
      const current = this.row()
      if (current.state === 'ACTIVE') this.setState('SUSPENDED', storedSpec(current))
    })
  }

  /** DELETE: stops HAProxy and removes its files (and namespace). STATS/METRICS then say DELETED. */
  async remove(): Promise<void> {
    const row = this.row()
    await this.ctx.withPoolLock(row.id, async () => {
      const current = this.row()
      await this.counters.acrossStop(current, () => this.removeFromHost(current))
      this.lastArchivedLine = null
      this.setState('DELETED', null)
    })
  }

  /** Brings the host in line with the stored device (worker start, `lbaas sync`). Idempotent. */
  async restore(): Promise<{state: DeviceState; changed: boolean}> {
    const row = this.row()
    return this.ctx.withPoolLock(row.id, async () => {
      const current = this.row()
      const paths = this.paths(current)
      const running = runningMaster(paths) !== undefined
      const spec = storedSpec(current)
      if (current.state === 'ACTIVE' && spec) {
        const outcome = await this.deploy(current, spec)
        return {state: current.state, changed: outcome.reloaded}
      }
      if (current.state === 'SUSPENDED') {
        if (running) await this.counters.acrossStop(current, (stopPaths) => stopHaproxy(stopPaths))
        return {state: current.state, changed: running}
      }
      const leftovers = running || existsSync(paths.dir) || (current.mode === 'namespace' && namespaceExists(namespaceFor(current.id)))
      if (leftovers) {
        await this.counters.acrossStop(current, () => this.removeFromHost(current))
      }
      return {state: current.state, changed: leftovers}
    })
  }

  private setState(state: DeviceState, spec: DeviceSpec | null): void {
    const {db} = this.ctx.store
    this.ctx.store.write(() => {
      const current = getDevice(db)!
      saveDevice(db, {...current, state, config: spec === null ? null : JSON.stringify(spec), updated_at: new Date().toISOString()})
    })
  }

  /** Deploys; the counters fold what the replaced process served (counters.ts). */
  private async deploy(row: DeviceRow, spec: DeviceSpec): Promise<DeployOutcome> {
    if (row.mode === 'namespace') await this.executor.ensureSubnet(this.subnetOf(row))
    const processSpec = this.processSpec(row, spec)
    return this.counters.acrossDeploy(row, (hooks) => this.executor.deployProcess(processSpec, hooks))
  }

  // ---- quick reads -------------------------------------------------------------------

  /** STATS: node health as HAProxy sees it. Takes no lock. */
  async status(): Promise<DeviceStatus> {
    const row = this.row()
    const spec = storedSpec(row)
    if (!spec || row.state === 'DELETED' || row.state === 'NONE') return {kind: 'deleted'}
    if (row.state === 'SUSPENDED') return {kind: 'suspended', nodeIds: spec.loadBalancers.flatMap((lb) => lb.nodes.map((node) => node.id))}
    // During a reload the new worker takes the stats socket only once it has parsed its
    // configuration (tens of ms for 1,000 servers): a ping answers what it saw just before.
    if (this.counters.changing && this.lastServers) return {kind: 'running', servers: this.lastServers}
    const paths = this.paths(row)
    if (runningMaster(paths) === undefined) return {kind: 'down'}
    let stat: ShowStat
    try {
      stat = await this.counters.showStat(paths)
    } catch {
      throw new RuntimeFailure('haproxy_socket', "HAProxy 'show stat' query failed.")
    }
    const backends = new Set(spec.loadBalancers.map(backendName))
    const servers = stat.servers.filter((server) => backends.has(server.backend)).map((server) => ({nodeServer: server.name, status: server.status}))
    this.lastServers = servers
    return {kind: 'running', servers}
  }

  /** METRICS: bytes_out per protocol since the last report (counters.ts). */
  metrics(): Promise<MetricsReport | 'deleted'> {
    return this.counters.metrics()
  }

  /** ARCHIVE: the log lines of one protocol in HAProxy's log ring since the last upload; null when there are none. */
  async logLines(protocol: 'http' | 'tcp'): Promise<string[] | null> {
    const row = this.row()
    const paths = this.paths(row)
    if (runningMaster(paths) === undefined) return null
    let text: string
    try {
      text = await sendCommand(paths.statsSocket, `show events ${LOG_RING_NAME}`, {timeoutMs: 5_000})
    } catch {
      return null
    }
    // Libra filtered on `<proto>-in`/`<proto>-servers`, and on `galera-in` for GALERA, which never matches.
    const markers = [frontendName({protocol: protocol === 'http' ? 'HTTP' : 'TCP'}), backendName({protocol: protocol === 'http' ? 'HTTP' : 'TCP'})]
    let lines = text.split('\n').filter((line) => line.length > 0 && markers.some((marker) => line.includes(marker)))
    const seen = this.lastArchivedLine === null ? -1 : lines.lastIndexOf(this.lastArchivedLine)
    if (seen >= 0) lines = lines.slice(seen + 1)
    return lines.length === 0 ? null : lines
  }

  /** Called once an upload succeeded, so the next ARCHIVE sends only newer lines. */
  markArchived(lines: readonly string[]): void {
    this.lastArchivedLine = lines.at(-1) ?? this.lastArchivedLine
  }
}

function checkDeviceAddress(subnet: Subnet, address: string): string {
  const network = parseNetwork(subnet.cidr)
  if ('error' in network) throw new InternalError(`subnet ${subnet.id}: ${network.error}`)
  const parsed = canonicalAddress(address)?.address
  if (!parsed || !isUsableHost(network, parsed) || parsed === subnet.gateway_ip) {
    throw new ValidationError(
      'device_address',
      `--device-address ${JSON.stringify(address)} must be a host address inside subnet ${subnet.name} (${subnet.cidr}), not its gateway`,
    )
  }
  return parsed
}

/**
 * Brings the host in line with the Libra device stored in the state file: deploys an
 * ACTIVE device (idempotent), keeps a SUSPENDED one stopped, removes what a DELETED one
 * left. For `lbaas sync` and the worker's start. Does nothing when this state file never
 * ran a device.
 */
export async function restoreDevice(ctx: AppContext): Promise<{state: DeviceState; changed: boolean} | null> {
  if (!getDevice(ctx.store.db)) return null
  return new LibraDevice(ctx, await ctx.processHost()).restore()
}

/**
 * The configuration the stored device renders to (what HAProxy should run), for `sync`;
 * null when there is none or it cannot be rendered (e.g. its subnet is gone).
 */
export async function renderStoredDevice(ctx: AppContext): Promise<string | null> {
  const row = getDevice(ctx.store.db)
  if (!row?.config) return null
  try {
    return new LibraDevice(ctx, await ctx.processHost()).render(JSON.parse(row.config))
  } catch {
    return null
  }
}

/** Parses `--device-subnet` / `--device-address` into a placement: both or neither. */
export function devicePlacement(subnet: string | undefined, address: string | undefined): DevicePlacementRequest {
  if (subnet === undefined && address === undefined) return {mode: 'host'}
  if (subnet === undefined || address === undefined) {
    throw new UsageError('--device-subnet and --device-address go together', 'give both (namespace mode) or neither (host mode, bound to 0.0.0.0)')
  }
  return {mode: 'namespace', subnet, address}
}
