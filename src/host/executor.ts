/**
 * The local executor: the deploy pipeline of SPEC §4.3 on this host. The caller holds the
 * pool lock (step 1). Every step is idempotent, so running it again, or `lbaas sync`, after
 * a crash at any point finishes the job.
 *
 * Files of a pool live in `<run dir>/<pool id>/` (0700): `haproxy.cfg` (what runs),
 * `haproxy.cfg.new` (being checked), `haproxy.cfg.rejected` (what HAProxy refused),
 * `haproxy.cfg.last-good` (for rollback), the stats and master sockets (0600), the pid file
 * and the server-state file (0600).
 */
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'

import {InternalError, LbaasError, RuntimeFailure, ValidationError} from '../domain/errors.js'
import type {CertificateBundle, PoolGraph, Subnet, Vip} from '../domain/types.js'
import {renderConfig, renderCrtList} from '../haproxy/render.js'
import {replaceSslCertificate, setServerState, setServerWeight, showServersState, showStat} from '../haproxy/runtime.js'
import {haproxyPem} from '../tls/certificate.js'
import {EMPTY_SERVER_STATE, retainMatchingServerState} from '../haproxy/stats.js'
import {buildPoolView, parseDuration, type HaproxyView, type RenderOptions} from '../haproxy/view.js'
import {liveVip} from '../domain/status.js'
import type {DeployOutcome, ExecutorHooks, LiveStats, Notifier, PoolExecutor} from '../executor/port.js'
import {crashPoint} from '../util/crash-point.js'
import {makePrivateDirs} from '../util/fs.js'
import {holdRetiringWorker, type RetiringWorker} from './counter-keeper.js'
import {fdLimitShortfall} from './fd-limit.js'
import {masterIdentity, reloadHaproxy, runningMaster, startHaproxy, stopHaproxies, stopHaproxy, unrecordedHaproxies, validateConfig} from './haproxy-process.js'
import {bridgeGatewayCidr, deleteBridge, ensureBridge, inspectLink} from './links.js'
import {namespaceFor, ownerTag, poolPaths, vipHostLink, type PoolPaths} from './names.js'
import {readLiveStats} from './live-stats.js'
import {namespaceExists, processInNamespace, processInOwnNamespace} from './netns.js'
import {planVipPlug, plugVip, unplugNamespace, vipPlugSpec, type PlugPlan, type PlugSpec} from './plug.js'
import {removeRunLeftovers} from './run-files.js'

export interface LocalExecutorOptions {
  runDir: string
  /** HAProxy's global maxconn: the safe maximum for the host limit recorded in the state file. */
  maxconn: number
  user: string
  group: string
  /** How long a worker replaced by a reload may keep serving old connections. */
  hardStopAfter?: string
  notify: Notifier
}

/** What the host holds for a pool, for `lbaas sync` to compare with the state file. */
export interface PoolInspection {
  poolId: string
  namespace: boolean
  running: boolean
  /** The file HAProxy runs equals what the state file renders to. */
  configCurrent: boolean
  /** Steps the VIP plug still needs (empty when healthy); null when the pool has no live VIP. */
  plugSteps: string[] | null
}

/**
 * What `lbaas sync` may ask of this host: what runs for a pool (changing nothing), and the
 * removal of a process it proved is lbaas's (SPEC §4.7).
 */
export interface HostInspector {
  /** The configuration the graph renders to on this host (pure). */
  render(graph: PoolGraph): {config: string}
  /** The VIP plug the graph asks for, for the inventory to inspect. */
  plugSpecOf(graph: PoolGraph): PlugSpec
  /** What rendering a pool on this host takes (an HA peer's configuration is rendered from it: host/ha-peer.ts). */
  renderOptions: LocalExecutor['renderOptions']
  removeProcess(id: string, namespace: string | null, hostLink?: string): Promise<void>
  stopUnrecorded(id: string): Promise<void>
}

/**
 * What a Libra device needs of this host: one HAProxy process from a prepared view, through
 * the same pipeline as a pool (`haproxy -c`, hitless reload, rollback), and its subnet.
 */
export interface ProcessHost {
  ensureSubnet(subnet: Subnet): Promise<void>
  deployProcess(spec: ProcessSpec, hooks: ExecutorHooks): Promise<DeployOutcome>
  removeProcess(id: string, namespace: string | null, hostLink?: string): Promise<void>
}

/** One HAProxy process to deploy: what it runs, and where. */
export interface ProcessSpec {
  /** A UUID naming the run-dir entry (`<run dir>/<id>/`). */
  id: string
  view: HaproxyView
  /** The namespace HAProxy runs in; null: the host's own (Libra host mode). */
  namespace: string | null
  /** The VIP plug of that namespace, or null. */
  plug: PlugSpec | null
  /** Certificates the view's crt-list names (TERMINATED_HTTPS). */
  certs?: readonly CertificateBundle[]
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The running HAProxy loaded exactly `config` (see PoolPaths.configApplied). */
function runsConfig(paths: PoolPaths, config: string | null): boolean {
  return config !== null && readIfExists(paths.configApplied) === sha256(config)
}

/** Writes through a temporary file and rename, so readers never see half a file. */
function writeAtomically(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, content, {mode: 0o600})
  renameSync(temporary, path)
}

const DEFAULT_HARD_STOP_AFTER = '30s'

/**
 * How long an unrecorded HAProxy's soft stop may take before SIGKILL: what a reload gives an
 * old worker (hard-stop-after), but within 20 s, as the pool lock is held meanwhile and other
 * commands wait 30 s for it.
 */
function unrecordedGraceMs(hardStopAfterMs: number): number {
  return Math.min(hardStopAfterMs + 1_000, 20_000)
}

export class LocalExecutor implements PoolExecutor {
  readonly name = 'local'

  constructor(private readonly options: LocalExecutorOptions) {}

  renderOptions(paths: PoolPaths): RenderOptions {
    return {
      statsSocket: paths.statsSocket,
      serverStateFile: paths.serverState,
      maxconn: this.options.maxconn,
      user: this.options.user,
      group: this.options.group,
      hardStopAfter: this.options.hardStopAfter ?? DEFAULT_HARD_STOP_AFTER,
      certDir: paths.certDir,
    }
  }

  private plugSpec(graph: PoolGraph, vip: Vip): PlugSpec {
    const subnet = graph.vipSubnet
    if (!subnet) throw new InternalError(`VIP ${vip.id} has no subnet`)
    return vipPlugSpec(this.options.runDir, graph.pool.id, subnet, vip.address)
  }

  /** The VIP plug the graph asks for (throws when it has no live VIP). */
  plugSpecOf(graph: PoolGraph): PlugSpec {
    const vip = liveVip(graph)
    if (!vip) throw new InternalError(`pool ${graph.pool.id} has no live VIP`)
    return this.plugSpec(graph, vip)
  }

  render(graph: PoolGraph): {view: HaproxyView; config: string; paths: PoolPaths} {
    const paths = poolPaths(this.options.runDir, graph.pool.id)
    const view = buildPoolView({...graph, vip: liveVip(graph)}, this.renderOptions(paths))
    return {view, config: renderConfig(view), paths}
  }

  async deploy(graph: PoolGraph, hooks: ExecutorHooks): Promise<DeployOutcome> {
    const vip = liveVip(graph)
    if (!vip) {
      await this.undeploy(graph.pool.id)
      return {state: 'absent', reloaded: false, description: null, warnings: []}
    }
    const {view} = this.render(graph)
    return this.deployProcess(
      {id: graph.pool.id, view, namespace: namespaceFor(graph.pool.id), plug: this.plugSpec(graph, vip), certs: graph.certs},
      hooks,
    )
  }

  /**
   * Steps 2–8 for any rendered view: a pool (namespace and VIP plug) or a Libra device (its
   * own namespace, or the host's with `namespace: null`).
   */
  async deployProcess(spec: ProcessSpec, hooks: ExecutorHooks): Promise<DeployOutcome> {
    const step = this.options.notify.step
    const {view, namespace, plug} = spec
    const config = renderConfig(view)
    crashPoint('deploy-after-render')
    const paths = poolPaths(this.options.runDir, spec.id)
    const master = runningMaster(paths)
    if (master === undefined && masterIdentity(paths).verdict.state === 'detached') {
      // Ours but unreachable: its namespace was deleted under it. It goes before a new one binds the same sockets.
      await step('stop the HAProxy that does not serve this pool', () => stopHaproxy(paths))
    }
    // With no running master, HAProxy may still load this entry's configuration without an
    // identity record: started by an lbaas that wrote none (before an upgrade), or by a start
    // that crashed before recording it. Serving in the pool's namespace, it goes only once the
    // new HAProxy holds its listening sockets (`-x`) and runs a worker, and then with a soft
    // stop (unrecordedGraceMs), as a reload would. Anywhere else (a namespace deleted under
    // it) its sockets serve no one and must not be taken over: it goes first.
    let unrecorded = master === undefined ? unrecordedHaproxies(paths) : []
    const servesHere = (pid: number) => (namespace === null ? processInOwnNamespace(pid) : processInNamespace(pid, namespace))
    if (unrecorded.some((found) => !servesHere(found.pid))) {
      await step('stop the HAProxy that does not serve this pool', () => stopHaproxies(unrecorded))
      unrecorded = []
    }
    const current = readIfExists(paths.config)
    if (master !== undefined && current === config && runsConfig(paths, config) && tlsFilesCurrent(view, spec.certs ?? [])) {
      // Byte-identical: no reload; only repair the plumbing if something went missing.
      if (plug) await plugVip(plug)
      return {state: 'serving', reloaded: false, description: null, warnings: view.warnings}
    }

    const shortfall = master === undefined ? fdLimitShortfall(this.options.maxconn) : undefined
    if (shortfall) throw new RuntimeFailure('fd_limit_too_low', `cannot start HAProxy: ${shortfall}`)
    makePrivateDirs(paths.dir)
    // HAProxy reads these as root, before it drops privileges, at start and at every reload
    // (the master re-executes itself), and `haproxy -c` checks them with the configuration.
    const tlsBefore = snapshotDir(paths.certDir)
    writeTlsFiles(view, spec.certs ?? [], paths.certDir)
    writeAtomically(paths.configNew, config)
    crashPoint('deploy-after-write-new')
    try {
      await step('validate the configuration (haproxy -c)', () => validateConfig(spec.id, paths.configNew, namespace ?? undefined))
    } catch (error) {
      renameSync(paths.configNew, paths.configRejected)
      // Refused: the running HAProxy's next reload must find the certificates it runs with.
      restoreDir(paths.certDir, tlsBefore)
      throw error
    }
    crashPoint('deploy-after-validate')
    if (plug) {
      const plugged = await step(`plug ${plug.address} into ${plug.bridge} (namespace ${plug.namespace})`, () => plugVip(plug))
      view.warnings.push(...plugged.warnings)
    }
    crashPoint('deploy-after-plug')

    let retiring: RetiringWorker | undefined
    let replaced = false
    try {
      if (master !== undefined) {
        retiring = await this.saveRuntimeState(paths, view, hooks, current, spec.id)
      } else if (!existsSync(paths.serverState)) {
        writeAtomically(paths.serverState, EMPTY_SERVER_STATE)
      }
      if (current !== null) writeAtomically(paths.configLastGood, current)
      crashPoint('deploy-after-save-state')
      rmSync(paths.configApplied, {force: true})
      renameSync(paths.configNew, paths.config)
      crashPoint('deploy-after-rename')

      try {
        if (master === undefined) await step('start HAProxy', () => startHaproxy(paths, namespace, {takeOver: unrecorded.length > 0}))
        else {
          const outcome = await step('reload HAProxy without dropping connections', () => reloadHaproxy(paths))
          if (!outcome.ok) throw new RuntimeFailure('reload_failed', 'HAProxy refused to start a worker with the new configuration')
          replaced = true
        }
      } catch (error) {
        if (unrecorded.length > 0) {
          // A take-over that did not come up: the master it started has no record and goes
          // (by the same proof as the unrecorded ones); the old HAProxy serves on meanwhile.
          const old = new Set(unrecorded.map((found) => found.pid))
          await stopHaproxies(unrecordedHaproxies(paths).filter((found) => !old.has(found.pid)))
        }
        await this.rollback(paths, spec, current, master !== undefined)
        throw new RuntimeFailure(
          'deploy_failed',
          `${(error as Error).message}; ${current === null ? 'it was stopped' : 'the last good configuration was restored'}`,
          'see `lbaas status` and `lbaas doctor`',
        )
      }
    } finally {
      retiring?.release(replaced)
    }
    writeAtomically(paths.configApplied, sha256(config))
    removeRunLeftovers(paths)
    crashPoint(master === undefined ? 'deploy-after-start' : 'deploy-after-reload')
    if (unrecorded.length > 0) {
      const graceMs = unrecordedGraceMs(view.global.hardStopAfter)
      await step('stop the HAProxy that no identity record names', () => stopHaproxies(unrecorded, {graceMs}))
    }
    return {state: 'serving', reloaded: true, description: null, warnings: view.warnings}
  }

  /**
   * Soft-stops HAProxy processes that load `id`'s configuration beside its recorded, running
   * master (a take-over cut short, or a failed start rolled back while the old one served).
   * With no master running it does nothing: the next deploy hands them over.
   */
  async stopUnrecorded(id: string): Promise<void> {
    const paths = poolPaths(this.options.runDir, id)
    if (runningMaster(paths) === undefined) return
    const unrecorded = unrecordedHaproxies(paths)
    if (unrecorded.length === 0) return
    const graceMs = unrecordedGraceMs(parseDuration(this.options.hardStopAfter ?? DEFAULT_HARD_STOP_AFTER))
    await this.options.notify.step('stop the HAProxy that no identity record names', () => stopHaproxies(unrecorded, {graceMs}))
  }

  /** Stops and removes what `deployProcess` made for `id`. Idempotent. */
  async removeProcess(id: string, namespace: string | null, hostLink?: string): Promise<void> {
    const paths = poolPaths(this.options.runDir, id)
    const step = this.options.notify.step
    // Steps are shown only for what exists: deleting a pool that never ran shows nothing.
    if (runningMaster(paths) !== undefined) await step('stop HAProxy', () => stopHaproxy(paths))
    else await stopHaproxy(paths)
    crashPoint('undeploy-after-stop')
    if (namespace && namespaceExists(namespace)) await step(`unplug the VIP and delete namespace ${namespace}`, () => unplugNamespace(namespace, hostLink))
    else if (namespace) await unplugNamespace(namespace, hostLink)
    crashPoint('undeploy-after-unplug')
    rmSync(paths.dir, {recursive: true, force: true})
  }

  /**
   * Step 5: counters and server health of the running worker, kept across the reload. The
   * counter keeper (when the hooks ask for it) takes the snapshot and holds the worker for
   * its final counters; the caller releases it. A snapshot that cannot be recorded throws
   * (nothing reloaded: counters are never silently lost); one that cannot be read is
   * reported as a warning, and the reload goes on.
   */
  private async saveRuntimeState(
    paths: PoolPaths,
    view: HaproxyView,
    hooks: ExecutorHooks,
    runningConfig: string | null,
    id: string,
  ): Promise<RetiringWorker | undefined> {
    const retiring = hooks.retiringWorker
      ? await holdRetiringWorker({
          statsSocket: paths.statsSocket,
          statePath: hooks.retiringWorker.statePath,
          poolId: hooks.retiringWorker.poolId,
          backend: id,
          deadlineMs: Math.max(0, view.global.hardStopAfter - 2_000),
        })
      : undefined
    try {
      const stats = retiring?.snapshot ?? (await showStat(paths.statsSocket).catch(() => undefined))
      if (!stats) this.options.notify.warn(`could not read the counters of pool ${id} before reloading: what it served since the last reading is not counted`)
      // Every backend of the running process, including one the new configuration drops.
      for (const backend of stats?.backends ?? []) hooks.countersBeforeReload(backend, backend.name)
    } catch (error) {
      retiring?.release(false)
      throw error
    }
    try {
      writeAtomically(paths.serverState, retainMatchingServerState(await showServersState(paths.statsSocket), view, runningConfig))
    } catch {
      // Octavia's rule: reload even when the state could not be saved (health is re-probed).
      if (!existsSync(paths.serverState)) writeAtomically(paths.serverState, EMPTY_SERVER_STATE)
    }
    return retiring
  }

  /** Step 7's way back: the last good file again, and HAProxy running it. */
  private async rollback(paths: PoolPaths, spec: ProcessSpec, lastGood: string | null, wasRunning: boolean): Promise<void> {
    if (existsSync(paths.config)) renameSync(paths.config, `${paths.config}.failed`)
    if (lastGood === null) {
      await stopHaproxy(paths)
      if (spec.namespace) await unplugNamespace(spec.namespace, spec.plug?.hostLink)
      return
    }
    writeAtomically(paths.config, lastGood)
    try {
      if (wasRunning && runningMaster(paths) !== undefined) {
        if ((await reloadHaproxy(paths)).ok) writeAtomically(paths.configApplied, sha256(lastGood))
      } else {
        await startHaproxy(paths, spec.namespace)
        writeAtomically(paths.configApplied, sha256(lastGood))
      }
    } catch {
      // The error that brought us here is the one to report; sync retries the last good file.
    }
  }

  async applyRuntime(graph: PoolGraph, memberIds: readonly string[], hooks: ExecutorHooks): Promise<DeployOutcome> {
    const {view, config, paths} = this.render(graph)
    const current = readIfExists(paths.config)
    if (runningMaster(paths) === undefined || !runsConfig(paths, current) || !onlyServersDiffer(current!, config, memberIds)) {
      return this.deploy(graph, hooks)
    }
    const backend = view.backends[0]
    try {
      for (const server of backend.servers.filter((candidate) => memberIds.includes(candidate.name))) {
        await setServerWeight(paths.statsSocket, backend.name, server.name, server.weight)
        await setServerState(paths.statsSocket, backend.name, server.name, server.disabled ? 'maint' : 'ready')
      }
    } catch (error) {
      // e.g. `balance source` refuses weights other than 0%/100% at run time: reload instead.
      if (error instanceof LbaasError && error.code === 'haproxy_runtime_refused') return this.deploy(graph, hooks)
      throw error
    }
    // The file says what runs, so a later reload (or sync) keeps the change.
    writeAtomically(paths.config, config)
    writeAtomically(paths.configApplied, sha256(config))
    return {state: 'serving', reloaded: false, description: null, warnings: view.warnings}
  }

  /**
   * Swaps certificates HAProxy serves through the runtime API (`set ssl cert` + `commit ssl
   * cert`), without a reload, then writes the files so a later reload keeps them. Falls back
   * to `deploy` when the pool does not run exactly the current configuration or the crt-list
   * itself changes (new SANs select other names: only a reload re-reads it). When HAProxy
   * refuses, it keeps serving the old certificate and this throws `haproxy_runtime_refused`;
   * certificates already swapped in this call are swapped back first.
   */
  async rotateCertificates(graph: PoolGraph, previous: readonly CertificateBundle[], hooks: ExecutorHooks): Promise<DeployOutcome> {
    const {view, config, paths} = this.render(graph)
    const current = readIfExists(paths.config)
    const list = view.crtList
    if (
      !list ||
      runningMaster(paths) === undefined ||
      !runsConfig(paths, current) ||
      !onlyHeaderDiffers(current!, config) ||
      readIfExists(list.path) !== renderCrtList(list)
    ) {
      return this.deploy(graph, hooks)
    }
    const before = new Map(previous.map((cert) => [cert.id, cert]))
    const changed = graph.certs.filter((cert) => before.has(cert.id) && haproxyPem(before.get(cert.id)!) !== haproxyPem(cert))
    const swapped: CertificateBundle[] = []
    try {
      for (const cert of changed) {
        const entry = list.entries.find((candidate) => candidate.certId === cert.id)!
        await replaceSslCertificate(paths.statsSocket, entry.file, haproxyPem(cert))
        swapped.push(cert)
      }
    } catch (error) {
      for (const cert of swapped) {
        const entry = list.entries.find((candidate) => candidate.certId === cert.id)!
        await replaceSslCertificate(paths.statsSocket, entry.file, haproxyPem(before.get(cert.id)!)).catch(() => undefined)
      }
      throw error
    }
    writeTlsFiles(view, graph.certs, paths.certDir)
    writeAtomically(paths.config, config)
    writeAtomically(paths.configApplied, sha256(config))
    return {state: 'serving', reloaded: false, description: null, warnings: view.warnings}
  }

  async undeploy(poolId: string): Promise<void> {
    await this.removeProcess(poolId, namespaceFor(poolId), vipHostLink(poolId))
  }

  async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    return this.processStats(graph.pool.id, graph.pool.id)
  }

  /** Counters of one backend of the process `id`, and its servers; null when not running. */
  processStats(id: string, backendName: string): Promise<LiveStats | null> {
    return readLiveStats(this.options.runDir, id, backendName)
  }

  async ensureSubnet(subnet: Subnet): Promise<void> {
    if (subnet.managed) {
      await ensureBridge(subnet.bridge, {gatewayCidr: bridgeGatewayCidr(subnet), owner: ownerTag(this.options.runDir)})
      return
    }
    const link = inspectLink(subnet.bridge)
    if (!link.exists) throw new ValidationError('bridge', `bridge ${subnet.bridge} does not exist`, 'create it first, or leave out --bridge')
    if (!link.isBridge) throw new ValidationError('bridge', `${subnet.bridge} is not a bridge`)
  }

  async removeSubnet(subnet: Subnet): Promise<void> {
    if (subnet.managed) await deleteBridge(subnet.bridge)
  }

  /** HAProxy of `id` runs, and runs exactly `config` (the file holds it and it was loaded). */
  runsCurrent(id: string, config: string): boolean {
    const paths = poolPaths(this.options.runDir, id)
    return runningMaster(paths) !== undefined && readIfExists(paths.config) === config && runsConfig(paths, config)
  }

  /** What sync would change for a pool, without changing anything. */
  async inspect(graph: PoolGraph): Promise<PoolInspection> {
    const {config, paths} = this.render(graph)
    const vip = liveVip(graph)
    let plugSteps: string[] | null = null
    if (vip) {
      const plan: PlugPlan = await planVipPlug(this.plugSpec(graph, vip))
      plugSteps = plan.changes.map((change) => change.detail)
    }
    return {
      poolId: graph.pool.id,
      namespace: namespaceExists(namespaceFor(graph.pool.id)),
      running: runningMaster(paths) !== undefined,
      configCurrent: readIfExists(paths.config) === config && runsConfig(paths, config),
      plugSteps,
    }
  }
}

/** The certificate files and crt-list on disk are what `view` names, byte for byte. */
function tlsFilesCurrent(view: HaproxyView, certs: readonly CertificateBundle[]): boolean {
  const list = view.crtList
  if (!list) return true
  if (readIfExists(list.path) !== renderCrtList(list)) return false
  const byId = new Map(certs.map((cert) => [cert.id, cert]))
  return list.entries.every((entry) => {
    const cert = byId.get(entry.certId)
    return cert !== undefined && readIfExists(entry.file) === haproxyPem(cert)
  })
}

/** The files of a directory (name → content); null when it does not exist. */
function snapshotDir(dir: string): Map<string, string> | null {
  if (!existsSync(dir)) return null
  return new Map(readdirSync(dir).filter((name) => !name.endsWith('.tmp')).map((name) => [name, readFileSync(`${dir}/${name}`, 'utf8')]))
}

function restoreDir(dir: string, snapshot: Map<string, string> | null): void {
  if (snapshot === null) {
    rmSync(dir, {recursive: true, force: true})
    return
  }
  makePrivateDirs(dir)
  for (const name of readdirSync(dir)) if (!snapshot.has(name)) rmSync(`${dir}/${name}`, {force: true})
  for (const [name, content] of snapshot) writeAtomically(`${dir}/${name}`, content)
}

/** Writes the certificate files (0600) and crt-list of `view`, and removes certificate files it no longer names. */
function writeTlsFiles(view: HaproxyView, certs: readonly CertificateBundle[], certDir: string): void {
  const list = view.crtList
  if (!list) {
    rmSync(certDir, {recursive: true, force: true})
    return
  }
  makePrivateDirs(certDir)
  const byId = new Map(certs.map((cert) => [cert.id, cert]))
  for (const entry of list.entries) {
    const cert = byId.get(entry.certId)
    if (!cert) throw new InternalError(`certificate ${entry.certId} was not loaded`)
    writeAtomically(entry.file, haproxyPem(cert))
  }
  writeAtomically(list.path, renderCrtList(list))
  const named = new Set(list.entries.map((entry) => entry.file.slice(certDir.length + 1)))
  for (const file of readdirSync(certDir)) {
    if (file.endsWith('.pem') && !named.has(file)) rmSync(`${certDir}/${file}`, {force: true})
  }
}

/** True when the two configurations differ only in `# certificate … sha256 …` header comments. */
export function onlyHeaderDiffers(current: string, next: string): boolean {
  const body = (text: string) => text.split('\n').filter((line) => !/^# certificate \S+ sha256 [0-9a-f]+$/.test(line))
  const [a, b] = [body(current), body(next)]
  return a.length === b.length && a.every((line, index) => line === b[index])
}

/**
 * True when the two configurations differ only in the `server` lines of `memberIds`
 * (weight, `disabled`): the runtime API can apply that without a reload.
 */
export function onlyServersDiffer(current: string, next: string, memberIds: readonly string[]): boolean {
  const before = current.split('\n')
  const after = next.split('\n')
  if (before.length !== after.length) return false
  return before.every((line, index) => {
    if (line === after[index]) return true
    const server = /^\s*server (\S+) /.exec(line)?.[1]
    return server !== undefined && memberIds.includes(server) && /^\s*server (\S+) /.exec(after[index])?.[1] === server
  })
}
