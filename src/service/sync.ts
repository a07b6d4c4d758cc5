/**
 * `lbaas sync` (SPEC §4.5): makes this host match the state file. It asks the host what
 * exists (host/inventory.ts), plans purely from that and the state file (sync-plan.ts),
 * and then runs every action on its own: one failure never stops the others, deploys run
 * `parallel` at a time, and the result names every object that did not converge.
 *
 * Safe beside other commands: one sync at a time per state file (the host lock), and
 * every action that touches a pool runs under that pool's lock from a fresh read of the
 * state file. An orphan is removed only if it is still one under the lock, so a pool, VIP
 * or subnet created while sync runs is never torn down by it.
 *
 * What sync never touches: anything without this tool's name prefixes, links and
 * namespaces whose owner tag names another run dir, files of a run-dir entry it does not
 * know (names.ts `isStrayRunFile`), and any process it cannot prove it started (§4.7).
 */
import {createHash} from 'node:crypto'
import {availableParallelism} from 'node:os'

import {RuntimeFailure} from '../domain/errors.js'
import {isPending} from '../domain/status.js'
import type {PoolGraph} from '../domain/types.js'
import {liveVip} from '../domain/status.js'
import {inspectableHaPeer} from '../host/ha-peer.js'
import {inspectRunEntry, takeInventory} from '../host/inventory.js'
import {bridgeGatewayCidr, deleteBridge, deleteLink} from '../host/links.js'
import {acquireLock, withLock} from '../host/lock.js'
import {haHostLink, hostLockPath, labBackendNames, labNamespaceDir, namespaceFor, poolPaths, vipHostLink} from '../host/names.js'
import {rmRunFiles} from '../host/run-files.js'
import {stopBackend} from '../lab/lab-host.js'
import {getDevice} from '../store/device.js'
import {getHaLocalPeer} from '../store/ha.js'
import {loadPoolGraph} from '../store/graph.js'
import {listLabBackends} from '../store/lab.js'
import {getPool, listPools} from '../store/pools.js'
import {listSubnets} from '../store/subnets.js'
import {settleWithConcurrency} from '../util/concurrency.js'
import {pausePoint} from '../util/crash-point.js'
import {applyPool, describeFailure} from './apply.js'
import type {AppContext} from './context.js'
import {labStartBackend, labStatus} from './lab.js'
import {planAgentSync, type AgentSyncOptions} from './sync-agents.js'
import {planStrayFiles, planSync, type SyncActionKind, type SyncOperation, type SyncStep, type SyncWants} from './sync-plan.js'

export type {SyncActionKind} from './sync-plan.js'

export interface SyncAction {
  kind: SyncActionKind
  target: string
  reason: string
}

/** One action of the plan; without `apply` it is a problem only the operator can fix. */
export interface PlannedAction extends SyncAction {
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
  /** Actions at once; default 2 × CPU cores. */
  parallel?: number
  /** How long to wait for another sync of this state file; default 60 s. */
  waitMs?: number
}

export const DEFAULT_SYNC_WAIT_MS = 60_000

export function defaultParallelism(): number {
  return 2 * availableParallelism()
}

export async function sync(ctx: AppContext, options: SyncOptions = {}): Promise<SyncResult> {
  const parallel = options.parallel ?? defaultParallelism()
  const lock = acquireLock(hostLockPath(ctx.runDir), 'sync of this state file', {
    timeoutMs: options.waitMs ?? DEFAULT_SYNC_WAIT_MS,
    onWait: (holder) => ctx.notify.info(`waiting for process ${holder.pid} (another sync of this state file) to finish`),
  })
  return withLock(lock, async () => {
    const actions = await planActions(ctx)
    // On a controller: the pools placed on agents (SPEC §4.5 "Agent pools too", §6).
    actions.push(...(await planAgentSync(ctx, options)))
    const shown = actions.map(({kind, target, reason}) => ({kind, target, reason}))
    if (options.dryRun) return {dry_run: true, actions: shown, failures: []}
    const failures = await runActions(ctx, actions, parallel)
    return {dry_run: false, actions: shown, failures: failures.map(({target, reason}) => ({target, error: reason}))}
  })
}

/** Exit 1 (sync_incomplete) naming every object that did not converge (SPEC §4.5). */
export function assertConverged(result: SyncResult): void {
  if (result.failures.length === 0) return
  throw new RuntimeFailure(
    'sync_incomplete',
    `sync did not converge ${result.failures.length} of ${result.actions.length} actions:\n${result.failures.map((failure) => `  ${failure.target}: ${failure.error}`).join('\n')}`,
    'fix what each line names, then run `lbaas sync` again (every other action was applied)',
  )
}

/** Bridges first (pools plug into them), then pools, the device and lab backends at once, orphans last. */
async function runActions(ctx: AppContext, actions: PlannedAction[], parallel: number): Promise<{target: string; reason: string}[]> {
  const phases = [
    actions.filter((action) => action.kind === 'repair-bridge' || action.kind === 'problem'),
    actions.filter((action) => !['repair-bridge', 'problem', 'remove-orphan'].includes(action.kind)),
    actions.filter((action) => action.kind === 'remove-orphan'),
  ]
  const failures: {target: string; reason: string}[] = []
  for (const phase of phases) {
    const outcomes = await settleWithConcurrency(phase, parallel, async (action) => {
      if (!action.apply) throw new RuntimeFailure('sync_problem', action.reason)
      await ctx.notify.step(`${action.kind} ${action.target}: ${action.reason}`, action.apply)
    })
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'rejected') failures.push({target: phase[index].target, reason: describeFailure(outcome.reason)})
    })
  }
  return failures
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function pendingObjects(graph: PoolGraph): string[] {
  return [
    ...(isPending(graph.pool.status) ? [`pool ${graph.pool.status}`] : []),
    ...(graph.vip && isPending(graph.vip.status) ? [`VIP ${graph.vip.status}`] : []),
    ...graph.members.filter((member) => isPending(member.status)).map((member) => `member ${member.id} ${member.status}`),
    ...graph.associations.filter((association) => isPending(association.status)).map((association) => `monitor ${association.monitor_id} ${association.status}`),
  ]
}

const poolTarget = (graph: PoolGraph) => `pool ${graph.pool.name} (${graph.pool.id})`

/** The plan, as actions: what the state file wants, what the host has, the pure planner, then each step bound to what does it. */
export async function planActions(ctx: AppContext): Promise<PlannedAction[]> {
  const local = await ctx.hostInspector()
  const {db} = ctx.store
  const {allPools, graphs, subnets, device, labRows} = ctx.store.read(() => {
    const pools = listPools(db)
    return {
      allPools: pools,
      graphs: pools.filter((pool) => pool.agent === 'local').map((pool) => loadPoolGraph(db, pool.id)!),
      subnets: listSubnets(db),
      device: getDevice(db),
      labRows: listLabBackends(db),
    }
  })
  // A command that completes from here on is not in this snapshot: whatever it creates on the
  // host looks like an orphan below, and is kept by the fresh read under its lock (operationOf).
  await pausePoint('sync-after-state-read')
  const served = graphs.filter((graph) => liveVip(graph))
  // This host's peers of HA pools (an agent's part of SPEC §11) run in `lbaas-<id>-<a|b>` with another configuration.
  const haPeers = new Map(ctx.store.read(() => graphs.flatMap((graph) => {
    const row = getHaLocalPeer(db, graph.pool.id)
    return row ? [[graph.pool.id, {role: row.role, virtualRouterId: row.virtual_router_id, addresses: {a: row.address_a, b: row.address_b}}] as const] : []
  })))
  const inspected = (graph: PoolGraph) => {
    const assignment = haPeers.get(graph.pool.id)
    return assignment ? inspectableHaPeer(local, ctx.runDir, graph, assignment) : {config: local.render(graph).config, plug: local.plugSpecOf(graph)}
  }
  const inventory = await takeInventory({
    runDir: ctx.runDir,
    plugs: served.flatMap((graph) => {
      try {
        return [inspected(graph).plug]
      } catch {
        return []
      }
    }),
    haPeers: served.filter((graph) => haPeers.has(graph.pool.id)).map((graph) => ({poolId: graph.pool.id, role: haPeers.get(graph.pool.id)!.role})),
    bridges: subnets.map((subnet) => ({name: subnet.bridge, managed: subnet.managed, gatewayCidr: bridgeGatewayCidr(subnet)})),
  })
  const deviceConfig = device && device.state === 'ACTIVE' ? await ctx.device.renderStored() : null
  const wants: SyncWants = {
    pools: graphs.map((graph) => ({
      id: graph.pool.id,
      target: poolTarget(graph),
      served: liveVip(graph) !== null,
      configSha: liveVip(graph) ? sha256(inspected(graph).config) : null,
      pending: pendingObjects(graph),
      ...(haPeers.has(graph.pool.id) ? {haRole: haPeers.get(graph.pool.id)!.role} : {}),
    })),
    allPoolIds: new Set(allPools.map((pool) => pool.id)),
    // An HA peer's link (SPEC §11) belongs to its pool too.
    knownLinks: new Set([
      ...allPools.flatMap((pool) => [vipHostLink(pool.id), haHostLink(pool.id, 'a'), haHostLink(pool.id, 'b')]),
      // The Libra device's plug (serve-worker --device-subnet) is ours too.
      ...(device ? [vipHostLink(device.id)] : []),
    ]),
    device: device
      ? {id: device.id, target: `Libra device ${device.id}`, served: device.state === 'ACTIVE', suspended: device.state === 'SUSPENDED', configSha: deviceConfig === null ? null : sha256(deviceConfig)}
      : undefined,
    subnets: subnets.map((subnet) => ({id: subnet.id, name: subnet.name, bridge: subnet.bridge, managed: subnet.managed})),
    labNamespaces: new Set(labRows.map((row) => labBackendNames(row.subnet_id, row.position).namespace)),
    labDown: labStatus(ctx).filter((backend) => !backend.running).map((backend) => backend.name),
  }
  return planSync(wants, inventory).map((step) => bind(ctx, step))
}

function bind(ctx: AppContext, step: SyncStep): PlannedAction {
  const {kind, target, reason} = step
  const apply = operationOf(ctx, step.operation)
  return apply ? {kind, target, reason, apply} : {kind, target, reason}
}

/** Each operation re-reads the state file under the lock it needs before it changes anything. */
function operationOf(ctx: AppContext, operation: SyncOperation): (() => Promise<void>) | undefined {
  const {db} = ctx.store
  switch (operation.type) {
    case 'none':
      return undefined
    case 'apply-pool':
      // applyPool takes the pool lock and reads the pool afresh (a deleted pool is left alone).
      return async () => void (await applyPool(ctx, operation.poolId, {pool: true}))
    case 'restore-device':
      return () => ctx.device.restore()
    case 'ensure-subnet':
      return async () => {
        const subnet = ctx.store.read(() => listSubnets(db).find((candidate) => candidate.id === operation.subnetId))
        if (subnet) await ctx.localExecutor.ensureSubnet(subnet)
      }
    case 'start-lab-backend':
      return async () => void (await labStartBackend(ctx, operation.name))
    case 'remove-files':
      return () =>
        ctx.withPoolLock(operation.id, async () => {
          // Under the lock no lbaas command writes this entry; a fresh look also names what a
          // re-executing HAProxy master is binding right now (inUse), which stays.
          const entry = inspectRunEntry(ctx.runDir, operation.id)
          const strays = planStrayFiles(entry && {...entry, lockHeld: false}, '')[0]
          if (strays?.operation.type === 'remove-files') rmRunFiles(poolPaths(ctx.runDir, operation.id), strays.operation.files.filter((file) => operation.files.includes(file)))
        })
    case 'stop-unrecorded':
      return () => ctx.withPoolLock(operation.id, async () => (await ctx.hostInspector()).stopUnrecorded(operation.id))
    case 'remove-entry':
      return () =>
        ctx.withPoolLock(operation.id, async () => {
          if (isKnown(ctx, operation.id)) return // created while sync ran
          const local = await ctx.hostInspector()
          await local.removeProcess(operation.id, namespaceFor(operation.id), vipHostLink(operation.id))
        })
    case 'delete-link':
      return async () => {
        const owners = ctx.store.read(() => [...listPools(db).map((pool) => pool.id), getDevice(db)?.id]).filter((id) => id !== undefined && vipHostLink(id) === operation.name)
        if (owners.length > 0) return
        await deleteLink(operation.name)
      }
    case 'delete-bridge':
      return async () => {
        if (ctx.store.read(() => listSubnets(db)).some((subnet) => subnet.bridge === operation.name)) return
        await deleteBridge(operation.name)
      }
    case 'remove-lab-namespace':
      return async () => {
        const wanted = ctx.store.read(() => listLabBackends(db)).some((row) => labBackendNames(row.subnet_id, row.position).namespace === operation.name)
        if (wanted) return
        await stopBackend({namespace: operation.name, controlDir: labNamespaceDir(ctx.runDir, operation.name)})
      }
  }
}

/** A pool or the Libra device of the state file, read now. */
function isKnown(ctx: AppContext, id: string): boolean {
  return ctx.store.read(() => getPool(ctx.store.db, id) !== undefined || getDevice(ctx.store.db)?.id === id)
}
