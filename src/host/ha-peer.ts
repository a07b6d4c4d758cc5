/**
 * One HA peer of a pool on this host (SPEC §11): HAProxy and keepalived in the peer's
 * namespace `lbaas-<pool id>-<a|b>`, plugged into the VIP's bridge through
 * `lbv<10 hex><a|b>` with the peer's own address; keepalived adds the VIP while MASTER.
 *
 * Order of the pipeline (§4.3 for both files): render both (pure; unsafe values throw
 * before anything is written), plug the peer (idempotent), `keepalived -t` on the new
 * keepalived file (a refusal keeps the running keepalived and HAProxy untouched, exit 3),
 * then HAProxy's own pipeline (`haproxy -c`, start or hitless reload), then keepalived is
 * started, or reloaded with SIGHUP when its file changed. Every step is idempotent.
 */
import {existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs'

import {InternalError} from '../domain/errors.js'
import type {PoolGraph, Subnet} from '../domain/types.js'
import {renderConfig} from '../haproxy/render.js'
import {buildPoolView, DEFAULT_PEERS_PORT} from '../haproxy/view.js'
import {
  DEFAULT_ADVERT_CENTISECONDS,
  DEFAULT_GARP,
  renderCheckScript,
  renderKeepalivedConfig,
  renderNotifyScript,
  type KeepalivedPeerSpec,
  type VrrpState,
} from '../keepalived/render.js'
import type {DeployOutcome, ExecutorHooks, LiveStats, PoolExecutor} from '../executor/port.js'
import {makePrivateDirs} from '../util/fs.js'
import {liveVip} from '../domain/status.js'
import type {LocalExecutor} from './executor.js'
import {runningMaster} from './haproxy-process.js'
import {
  readVrrpState,
  reloadKeepalived,
  runningKeepalived,
  startKeepalived,
  stopKeepalived,
  validateKeepalivedConfig,
} from './keepalived-process.js'
import {haHostLink, haNamespaceFor, keepalivedPaths, poolPaths, VIP_INTERFACE, type HaPeerRole, type KeepalivedPaths} from './names.js'
import {namespaceExists} from './netns.js'
import {plugVip, subnetPlugSpec, type PlugSpec} from './plug.js'
import {run} from './run.js'

/** What an agent is told about its part in an HA pool. */
export interface HaPeerAssignment {
  role: HaPeerRole
  virtualRouterId: number
  /** Peer addresses on the VIP's subnet, by role. */
  addresses: Record<HaPeerRole, string>
}

export interface HaPeerStatus {
  role: HaPeerRole
  namespace: string
  haproxyRunning: boolean
  keepalivedRunning: boolean
  /** From keepalived's notify; null when keepalived has not reported (or is not running). */
  vrrpState: VrrpState | null
}

const OTHER: Record<HaPeerRole, HaPeerRole> = {a: 'b', b: 'a'}
/** Ties at start go to peer a; with nopreempt nothing else depends on priority. */
const PRIORITY: Record<HaPeerRole, number> = {a: 100, b: 90}

function writeIfChanged(path: string, content: string, mode: number): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, content, {mode})
  renameSync(temporary, path)
  return true
}

function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null
}

export function haPeerSpec(runDir: string, graph: PoolGraph, assignment: HaPeerAssignment): {plug: PlugSpec; keepalived: KeepalivedPeerSpec} {
  const vip = liveVip(graph)
  const subnet = graph.vipSubnet
  if (!vip || !subnet) throw new InternalError(`HA pool ${graph.pool.id} has no live VIP or VIP subnet`)
  const {role} = assignment
  const paths = poolPaths(runDir, graph.pool.id)
  const kpaths = keepalivedPaths(runDir, graph.pool.id)
  const plug = subnetPlugSpec(runDir, subnet, {
    namespace: haNamespaceFor(graph.pool.id, role),
    hostLink: haHostLink(graph.pool.id, role),
    address: assignment.addresses[role],
    // keepalived adds and removes the VIP; a redeploy must never take it from the MASTER.
    foreignAddresses: [vip.address],
  })
  return {
    plug,
    keepalived: {
      poolId: graph.pool.id,
      role,
      interface: VIP_INTERFACE,
      virtualRouterId: assignment.virtualRouterId,
      priority: PRIORITY[role],
      peerAddress: assignment.addresses[role],
      otherPeerAddress: assignment.addresses[OTHER[role]],
      vipAddress: vip.address,
      prefixLength: plug.prefixLength,
      advertCentiseconds: DEFAULT_ADVERT_CENTISECONDS,
      check: {argv: [kpaths.checkScript, paths.statsSocket], intervalSeconds: 1, timeoutSeconds: 2, fall: 2, rise: 2},
      notifyArgv: [kpaths.notifyScript, kpaths.stateFile],
      garp: DEFAULT_GARP,
    },
  }
}

/** HAProxy binds the VIP while this peer is BACKUP and does not hold it (Octavia does the same). */
async function allowNonLocalBind(namespace: string, family: 4 | 6): Promise<void> {
  const key = family === 4 ? 'net.ipv4.ip_nonlocal_bind=1' : 'net.ipv6.ip_nonlocal_bind=1'
  await run(['sysctl', '-q', '-w', key], {netns: namespace, what: `allowing HAProxy to bind the VIP in ${namespace}`})
}

/**
 * Validates `config` with `keepalived -t` and makes it the running configuration: start
 * keepalived, or SIGHUP it when the file changed. A refused file is kept as
 * `keepalived.conf.rejected` and nothing else changes (KeepalivedRejectedError, exit 3).
 */
export async function installKeepalivedConfig(poolId: string, paths: KeepalivedPaths, namespace: string, config: string): Promise<'started' | 'reloaded' | 'unchanged'> {
  const current = readIfExists(paths.config)
  const running = runningKeepalived(paths, namespace)
  if (running && current === config) return 'unchanged'
  writeIfChanged(paths.configNew, config, 0o600)
  try {
    await validateKeepalivedConfig(poolId, paths.configNew, namespace)
  } catch (error) {
    renameSync(paths.configNew, paths.configRejected)
    throw error
  }
  renameSync(paths.configNew, paths.config)
  if (running && reloadKeepalived(paths, namespace)) return 'reloaded'
  await startKeepalived(paths, namespace)
  return 'started'
}

/** The peer's HAProxy view: the pool's, with the `peers` section that shares stick tables. */
function haPeerView(executor: Pick<LocalExecutor, 'renderOptions'>, runDir: string, graph: PoolGraph, assignment: HaPeerAssignment) {
  const other = OTHER[assignment.role]
  return buildPoolView(
    {...graph, vip: liveVip(graph)},
    {
      ...executor.renderOptions(poolPaths(runDir, graph.pool.id)),
      haPeers: {
        local: {name: `peer-${assignment.role}`, address: assignment.addresses[assignment.role]},
        remote: {name: `peer-${other}`, address: assignment.addresses[other]},
        port: DEFAULT_PEERS_PORT,
      },
    },
  )
}

/** What `lbaas sync` compares with the running peer (pure): its HAProxy configuration and its plug. */
export function inspectableHaPeer(executor: Pick<LocalExecutor, 'renderOptions'>, runDir: string, graph: PoolGraph, assignment: HaPeerAssignment): {config: string; plug: PlugSpec} {
  return {config: renderConfig(haPeerView(executor, runDir, graph, assignment)), plug: haPeerSpec(runDir, graph, assignment).plug}
}

export async function deployHaPeer(executor: LocalExecutor, runDir: string, graph: PoolGraph, assignment: HaPeerAssignment, hooks: ExecutorHooks): Promise<DeployOutcome> {
  if (!liveVip(graph)) {
    await removeHaPeer(executor, runDir, graph.pool.id, assignment.role)
    return {state: 'absent', reloaded: false, description: null, warnings: []}
  }
  const {plug, keepalived} = haPeerSpec(runDir, graph, assignment)
  const paths = poolPaths(runDir, graph.pool.id)
  const kpaths = keepalivedPaths(runDir, graph.pool.id)
  const view = haPeerView(executor, runDir, graph, assignment)
  const keepalivedConfig = renderKeepalivedConfig(keepalived)

  makePrivateDirs(paths.dir)
  writeIfChanged(kpaths.notifyScript, renderNotifyScript(), 0o700)
  writeIfChanged(kpaths.checkScript, renderCheckScript(), 0o700)
  await plugVip(plug)
  await allowNonLocalBind(plug.namespace, plug.family)
  // keepalived -t first: it needs the interface, and a refusal must leave HAProxy untouched too.
  const current = readIfExists(kpaths.config)
  const keepalivedRunning = runningKeepalived(kpaths, plug.namespace) !== undefined
  if (!keepalivedRunning || current !== keepalivedConfig) {
    writeIfChanged(kpaths.configNew, keepalivedConfig, 0o600)
    try {
      await validateKeepalivedConfig(graph.pool.id, kpaths.configNew, plug.namespace)
    } catch (error) {
      renameSync(kpaths.configNew, kpaths.configRejected)
      throw error
    }
  }
  const outcome = await executor.deployProcess({id: graph.pool.id, view, namespace: plug.namespace, plug}, hooks)
  const installed = await installKeepalivedConfig(graph.pool.id, kpaths, plug.namespace, keepalivedConfig)
  return {...outcome, reloaded: outcome.reloaded || installed !== 'unchanged'}
}

/** Stops keepalived (it releases the VIP at once), then HAProxy, then the namespace and link. Idempotent. */
export async function removeHaPeer(executor: LocalExecutor, runDir: string, poolId: string, role: HaPeerRole): Promise<void> {
  const namespace = haNamespaceFor(poolId, role)
  if (namespaceExists(namespace)) await stopKeepalived(keepalivedPaths(runDir, poolId), namespace)
  await executor.removeProcess(poolId, namespace, haHostLink(poolId, role))
}

export function haPeerStatus(runDir: string, poolId: string, role: HaPeerRole): HaPeerStatus {
  const namespace = haNamespaceFor(poolId, role)
  const kpaths = keepalivedPaths(runDir, poolId)
  const keepalivedRunning = namespaceExists(namespace) && runningKeepalived(kpaths, namespace) !== undefined
  return {
    role,
    namespace,
    haproxyRunning: runningMaster(poolPaths(runDir, poolId)) !== undefined,
    keepalivedRunning,
    vrrpState: keepalivedRunning ? (readVrrpState(kpaths) ?? null) : null,
  }
}

/**
 * The PoolExecutor of an HA pool's peer on this host (an agent's part of SPEC §11): the same
 * contract as LocalExecutor, with HAProxy and keepalived in the peer's namespace.
 */
export class HaPeerExecutor implements PoolExecutor {
  readonly name = 'local'

  constructor(
    private readonly local: LocalExecutor,
    private readonly runDir: string,
    private readonly assignment: HaPeerAssignment,
  ) {}

  deploy(graph: PoolGraph, hooks: ExecutorHooks): Promise<DeployOutcome> {
    return deployHaPeer(this.local, this.runDir, graph, this.assignment, hooks)
  }

  /** Weights and admin states reload (both files are re-rendered); a reload is hitless. */
  applyRuntime(graph: PoolGraph, _memberIds: readonly string[], hooks: ExecutorHooks): Promise<DeployOutcome> {
    return deployHaPeer(this.local, this.runDir, graph, this.assignment, hooks)
  }

  undeploy(poolId: string): Promise<void> {
    return removeHaPeer(this.local, this.runDir, poolId, this.assignment.role)
  }

  liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    return this.local.liveStats(graph)
  }

  ensureSubnet(subnet: Subnet): Promise<void> {
    return this.local.ensureSubnet(subnet)
  }

  removeSubnet(subnet: Subnet): Promise<void> {
    return this.local.removeSubnet(subnet)
  }
}
