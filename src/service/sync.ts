/**
 * `lbaas sync` (SPEC §4.5): makes this host match the state file. It re-creates missing
 * bridges, namespaces, plugs and HAProxy processes (after a reboot nothing is left),
 * reloads pools whose running configuration differs, settles stale PENDING_* statuses,
 * brings lab backends back, and removes this tool's orphans: namespaces, links, processes
 * and run-dir entries that no longer belong to a pool.
 *
 * Several lbaas instances (state files) may share a host, so an orphan is only ever
 * removed when it is provably ours: a run-dir entry of our run dir, or a link whose alias
 * is our owner tag (names.ts `ownerTag`). Idempotent: a second run finds nothing to do.
 */
import {existsSync, readdirSync, rmSync} from 'node:fs'

import {RuntimeFailure} from '../domain/errors.js'
import {isPending} from '../domain/status.js'
import type {PoolGraph, Subnet} from '../domain/types.js'
import {liveVip, type HostInspector} from '../host/executor.js'
import {runningMaster} from '../host/haproxy-process.js'
import {deleteBridge, deleteLink, inspectLink, listLinks, planBridge} from '../host/links.js'
import {liveLockHolder, withHostLock} from '../host/lock.js'
import {
  LAB_LINK_PREFIX,
  LAB_NAMESPACE_PREFIX,
  MANAGED_BRIDGE_PREFIX,
  POOL_NAMESPACE_PREFIX,
  VIP_LINK_PREFIX,
  labBackendNames,
  namespaceFor,
  ownerTag,
  poolIdFromNamespace,
  poolIdsIn,
  poolLockPath,
  poolPaths,
  vipHostLink,
} from '../host/names.js'
import {listNamespaces, namespaceExists, processInNamespace} from '../host/netns.js'
import {unplugNamespace} from '../host/plug.js'
import {findProcesses, terminate} from '../host/proc.js'
import {loadPoolGraph} from '../store/graph.js'
import {getDevice, type DeviceRow} from '../store/device.js'
import {listLabBackends} from '../store/lab.js'
import {listPools} from '../store/pools.js'
import {listSubnets} from '../store/subnets.js'
import {applyPool, describeFailure} from './apply.js'
import type {AppContext} from './context.js'
import {labStatus, labStartBackend} from './lab.js'
import {planAgentSync, type AgentSyncOptions} from './sync-agents.js'

export type SyncActionKind =
  | 'repair-bridge'
  | 'deploy'
  | 'undeploy'
  | 'settle'
  | 'start-lab-backend'
  | 'remove-orphan'
  | 'move'
  | 'problem'

export interface SyncAction {
  kind: SyncActionKind
  target: string
  reason: string
}

interface PlannedAction extends SyncAction {
  apply?: () => Promise<void>
}

export interface SyncResult {
  dry_run: boolean
  actions: SyncAction[]
  /** Actions that did not converge, with why (empty after a dry run). */
  failures: {target: string; error: string}[]
}

export interface SyncOptions extends Omit<AgentSyncOptions, 'now'> {
  dryRun?: boolean
}

export async function sync(ctx: AppContext, options: SyncOptions = {}): Promise<SyncResult> {
  return withHostLock(ctx.runDir, async () => {
    const actions = await planSync(ctx)
    // On a controller: the pools placed on agents (SPEC §4.5 "Agent pools too", §6).
    actions.push(...(await planAgentSync(ctx, options)))
    const failures: SyncResult['failures'] = []
    if (!options.dryRun) {
      for (const action of actions) {
        if (!action.apply) continue
        try {
          await ctx.notify.step(`${action.kind} ${action.target}: ${action.reason}`, action.apply)
        } catch (error) {
          // One action's failure never stops the others (SPEC §4.5).
          failures.push({target: action.target, error: describeFailure(error)})
        }
      }
    }
    return {dry_run: Boolean(options.dryRun), actions: actions.map(({apply: _apply, ...action}) => action), failures}
  })
}

/** Exit 1 (sync_incomplete) naming every object that did not converge (SPEC §4.5). */
export function assertConverged(result: SyncResult): void {
  if (result.failures.length === 0) return
  const list = result.failures.map((failure) => `${failure.target}: ${failure.error}`).join('; ')
  throw new RuntimeFailure('sync_incomplete', `sync did not converge: ${list}`)
}

async function planSync(ctx: AppContext): Promise<PlannedAction[]> {
  const local = await ctx.hostInspector()
  const {db} = ctx.store
  const owner = ownerTag(ctx.runDir)
  const subnets = listSubnets(db)
  const graphs = listPools(db)
    .filter((pool) => pool.agent === 'local')
    .map((pool) => loadPoolGraph(db, pool.id)!)
  const served = new Set(graphs.filter((graph) => liveVip(graph)).map((graph) => graph.pool.id))
  const actions: PlannedAction[] = []

  // A serve-worker's Libra device owns a run-dir entry, namespace and link like a pool does.
  const device = getDevice(db)
  const known = new Set([...graphs.map((graph) => graph.pool.id), ...(device ? [device.id] : [])])
  if (device && device.state === 'ACTIVE') served.add(device.id)

  actions.push(...(await planBridges(ctx, subnets, owner)))
  for (const graph of graphs) actions.push(...(await planPool(ctx, local, graph)))
  if (device) actions.push(...(await planDevice(ctx, local, device)))
  actions.push(...(await planLab(ctx)))
  actions.push(...planOrphans(ctx, local, known, served, subnets, owner))
  return actions
}

async function planDevice(ctx: AppContext, local: HostInspector, device: DeviceRow): Promise<PlannedAction[]> {
  const running = runningMaster(poolPaths(ctx.runDir, device.id)) !== undefined
  const wanted = device.state === 'ACTIVE'
  if (running && wanted && !(await deviceConfigCurrent(ctx, local, device))) {
    return [
      {
        kind: 'deploy',
        target: `Libra device ${device.id}`,
        reason: 'running configuration differs from the state file',
        apply: () => ctx.device.restore(),
      },
    ]
  }
  if (running === wanted && (wanted || !existsSync(poolPaths(ctx.runDir, device.id).dir) || device.state === 'SUSPENDED')) {
    return planLeftoverFiles(ctx, device.id, `Libra device ${device.id}`)
  }
  return [
    {
      kind: wanted ? 'deploy' : 'undeploy',
      target: `Libra device ${device.id}`,
      reason: wanted ? 'HAProxy not running' : `device is ${device.state} but HAProxy runs`,
      apply: () => ctx.device.restore(),
    },
  ]
}

/** A worker killed between deploying an UPDATE and recording it leaves HAProxy running a configuration the state file does not hold. */
async function deviceConfigCurrent(ctx: AppContext, local: HostInspector, device: DeviceRow): Promise<boolean> {
  // Unrenderable (e.g. the device subnet is gone): restoring would fail the same way.
  const config = await ctx.device.renderStored()
  return config === null || local.runsCurrent(device.id, config)
}

async function planBridges(ctx: AppContext, subnets: Subnet[], owner: string): Promise<PlannedAction[]> {
  const actions: PlannedAction[] = []
  for (const subnet of subnets) {
    if (!subnet.managed) {
      const link = inspectLink(subnet.bridge)
      if (!link.exists || !link.isBridge) {
        actions.push({kind: 'problem', target: `subnet ${subnet.name}`, reason: `bridge ${subnet.bridge} is missing; create it (lbaas never creates a bridge given with --bridge)`})
      }
      continue
    }
    const gatewayCidr = `${subnet.gateway_ip}/${subnet.cidr.split('/')[1]}`
    const plan = await planBridge(subnet.bridge, {gatewayCidr, owner})
    if (plan.changes.length > 0) {
      actions.push({
        kind: 'repair-bridge',
        target: `subnet ${subnet.name}`,
        reason: plan.changes.map((change) => change.detail).join('; '),
        apply: () => ctx.localExecutor.ensureSubnet(subnet),
      })
    }
  }
  return actions
}

function pendingObjects(graph: PoolGraph): string[] {
  const pending = [
    ...(isPending(graph.pool.status) ? [`pool ${graph.pool.status}`] : []),
    ...(graph.vip && isPending(graph.vip.status) ? [`VIP ${graph.vip.status}`] : []),
    ...graph.members.filter((member) => isPending(member.status)).map((member) => `member ${member.id} ${member.status}`),
    ...graph.associations.filter((association) => isPending(association.status)).map((association) => `monitor ${association.monitor_id} ${association.status}`),
  ]
  return pending
}

async function planPool(ctx: AppContext, local: HostInspector, graph: PoolGraph): Promise<PlannedAction[]> {
  const target = `pool ${graph.pool.name} (${graph.pool.id})`
  const pending = pendingObjects(graph)
  const apply = async () => {
    await applyPool(ctx, graph.pool.id, {pool: true})
  }
  if (liveVip(graph)) {
    const seen = await local.inspect(graph)
    const reasons = [
      ...(seen.namespace ? [] : ['namespace missing']),
      ...(seen.plugSteps ?? []).filter(() => seen.namespace),
      ...(seen.running ? [] : ['HAProxy not running']),
      ...(seen.running && !seen.configCurrent ? ['running configuration differs from the state file'] : []),
      ...pending.map((text) => `stale ${text}`),
    ]
    return reasons.length > 0 ? [{kind: 'deploy', target, reason: reasons.join('; '), apply}] : planLeftoverFiles(ctx, graph.pool.id, target)
  }
  const paths = poolPaths(ctx.runDir, graph.pool.id)
  const leftovers = [
    ...(namespaceExists(namespaceFor(graph.pool.id)) ? ['namespace'] : []),
    ...(existsSync(paths.dir) ? ['run files'] : []),
  ]
  if (leftovers.length > 0) {
    return [{kind: 'undeploy', target, reason: `no VIP, but ${leftovers.join(' and ')} left on the host`, apply}]
  }
  if (pending.length > 0) return [{kind: 'settle', target, reason: pending.map((text) => `stale ${text}`).join('; '), apply}]
  return []
}

/**
 * A candidate configuration or half-written file that a deploy killed before its rename
 * left in a run-dir entry whose HAProxy otherwise matches the state file (the next deploy
 * would overwrite it). Removed under the pool lock, so never from under a running deploy.
 */
function planLeftoverFiles(ctx: AppContext, id: string, target: string): PlannedAction[] {
  const {dir, configNew} = poolPaths(ctx.runDir, id)
  const leftovers = existsSync(dir) ? readdirSync(dir).filter((name) => `${dir}/${name}` === configNew || name.endsWith('.tmp')) : []
  if (leftovers.length === 0 || deployRunning(ctx, id)) return []
  return [
    {
      kind: 'remove-orphan',
      target,
      reason: `${leftovers.join(', ')} left by an interrupted deploy`,
      apply: () =>
        ctx.withPoolLock(id, async () => {
          for (const name of leftovers) rmSync(`${dir}/${name}`, {force: true})
        }),
    },
  ]
}

/** A live process holds the pool's lock: the files in its run-dir entry are its work in progress. */
function deployRunning(ctx: AppContext, id: string): boolean {
  return liveLockHolder(poolLockPath(ctx.runDir, id)) !== undefined
}

async function planLab(ctx: AppContext): Promise<PlannedAction[]> {
  return labStatus(ctx)
    .filter((backend) => !backend.running)
    .map((backend) => ({
      kind: 'start-lab-backend' as const,
      target: `lab backend ${backend.name}`,
      reason: 'not running',
      apply: async () => {
        await labStartBackend(ctx, backend.name)
      },
    }))
}

/**
 * Things of ours with no pool behind them. `known` are all local pools (handled by
 * planPool), `served` those with a live VIP.
 */
function planOrphans(
  ctx: AppContext,
  local: HostInspector,
  known: Set<string>,
  served: Set<string>,
  subnets: Subnet[],
  owner: string,
): PlannedAction[] {
  const actions: PlannedAction[] = []
  const handled = new Set<string>()
  const removePool = (id: string, reason: string) => {
    if (handled.has(id) || known.has(id)) return
    handled.add(id)
    actions.push({
      kind: 'remove-orphan',
      target: `pool ${id}`,
      reason,
      apply: () => local.removeProcess(id, namespaceFor(id), vipHostLink(id)),
    })
  }

  const runEntries = existsSync(ctx.runDir) ? poolIdsIn(readdirSync(ctx.runDir)) : []
  for (const id of runEntries) removePool(id, 'run-dir entry of a pool that is not in the state file')

  for (const namespace of listNamespaces(POOL_NAMESPACE_PREFIX)) {
    const id = poolIdFromNamespace(namespace)
    if (id && !known.has(id) && inspectLink(vipHostLink(id)).alias === owner) {
      removePool(id, `namespace ${namespace} of a pool that is not in the state file`)
    }
  }

  const servedLinks = new Set([...served].map((id) => vipHostLink(id)))
  for (const link of listLinks(VIP_LINK_PREFIX)) {
    if (servedLinks.has(link) || inspectLink(link).alias !== owner) continue
    if ([...known].some((id) => vipHostLink(id) === link)) continue
    actions.push({kind: 'remove-orphan', target: `link ${link}`, reason: 'VIP link of no pool', apply: async () => void (await deleteLink(link))})
  }

  const managedBridges = new Set(subnets.filter((subnet) => subnet.managed).map((subnet) => subnet.bridge))
  for (const bridge of listLinks(MANAGED_BRIDGE_PREFIX)) {
    if (managedBridges.has(bridge) || inspectLink(bridge).alias !== owner) continue
    actions.push({kind: 'remove-orphan', target: `bridge ${bridge}`, reason: 'bridge of no subnet', apply: async () => void (await deleteBridge(bridge))})
  }

  const labBackends = listLabBackends(ctx.store.db).map((row) => labBackendNames(row.subnet_id, row.position).namespace)
  for (const namespace of listNamespaces(LAB_NAMESPACE_PREFIX)) {
    if (labBackends.includes(namespace)) continue
    const hostLink = `${LAB_LINK_PREFIX}${namespace.slice(LAB_NAMESPACE_PREFIX.length).replace('-', '')}`
    if (inspectLink(hostLink).alias !== owner) continue
    actions.push({
      kind: 'remove-orphan',
      target: `lab namespace ${namespace}`,
      reason: 'lab backend that is not in the state file',
      apply: async () => {
        for (const process of findProcesses((argv) => argv.some((arg) => arg.startsWith(`${ctx.runDir}/lab/`)))) {
          if (processInNamespace(process.pid, namespace)) await terminate(process.pid, {graceMs: 1_000})
        }
        await unplugNamespace(namespace, hostLink)
      },
    })
  }

  // HAProxy processes started from this run dir for a pool that is gone (e.g. a crash
  // after the run-dir entry was removed).
  const prefix = `${ctx.runDir}/`
  for (const process of findProcesses((argv) => argv[0]?.endsWith('haproxy') === true && argv.some((arg) => arg.startsWith(prefix)))) {
    const id = poolIdsIn(process.argv.filter((arg) => arg.startsWith(prefix)).map((arg) => arg.slice(prefix.length).split('/')[0]))[0]
    if (!id || served.has(id) || handled.has(id)) continue
    actions.push({
      kind: 'remove-orphan',
      target: `process ${process.pid}`,
      reason: `HAProxy of pool ${id}, which is not served`,
      apply: async () => void (await terminate(process.pid, {graceMs: 1_000})),
    })
  }

  return actions
}
