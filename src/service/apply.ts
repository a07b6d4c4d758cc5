/**
 * Hands a pool to its executor and records the outcome in the state file (SPEC §3):
 * on success every PENDING_CREATE/PENDING_UPDATE/ERROR object of the pool becomes ACTIVE
 * and PENDING_DELETE rows are removed; on failure the objects the command changed become
 * ERROR with a description an operator can act on, and the error propagates (exit code).
 */
import {AgentUnreachableError, ConfigRejectedError, LbaasError} from '../domain/errors.js'
import {memberHealth, servingPoolOperatingStatus} from '../domain/status.js'
import type {CertificateBundle, PoolGraph, ProvisioningStatus} from '../domain/types.js'
import type {Db} from '../store/db.js'
import {addPendingUndeploy} from '../store/agents.js'
import {loadPoolGraph} from '../store/graph.js'
import {deleteMemberRow, setMemberHealth, setMemberStatus} from '../store/members.js'
import {deleteAssociationRow, setAssociationStatus} from '../store/monitors.js'
import {setPoolOperatingStatus, setPoolStatus} from '../store/pools.js'
import {recordCounters, type CumulativeCounters} from '../store/stats.js'
import {deleteVipRow, setVipStatus} from '../store/vips.js'
import {mapWithConcurrency} from '../util/concurrency.js'
import {crashPoint} from '../util/crash-point.js'
import type {AppContext} from './context.js'
import type {DeployOutcome, ExecutorHooks, LiveStats} from '../executor/port.js'

/** The objects a command changed: they take the blame (ERROR) when the host refuses. */
export interface Touched {
  pool?: boolean
  vipId?: string
  memberIds?: readonly string[]
  monitorIds?: readonly string[]
}

export interface ApplyOptions {
  /** Members whose weight/admin state changed: apply them through the runtime API (no reload). */
  runtimeMemberIds?: readonly string[]
  /** Certificates the host serves now, when only their material changed: swap them at run time (SPEC §9). */
  rotateFrom?: readonly CertificateBundle[]
}

const SETTLED_BY_DEPLOY: readonly ProvisioningStatus[] = ['PENDING_CREATE', 'PENDING_UPDATE', 'ERROR']

export async function applyPool(
  ctx: AppContext,
  poolId: string,
  touched: Touched,
  options: ApplyOptions = {},
): Promise<DeployOutcome | undefined> {
  return ctx.withPoolLock(poolId, async () => {
    const {db} = ctx.store
    const graph = ctx.store.read(() => loadPoolGraph(db, poolId))
    if (!graph) return undefined // deleted by a concurrent command
    const executor = ctx.executorFor(graph.pool)
    const hooks = counterHooks(ctx, poolId)
    let outcome: DeployOutcome
    try {
      outcome = options.runtimeMemberIds
        ? await executor.applyRuntime(graph, options.runtimeMemberIds, hooks)
        : options.rotateFrom && executor.rotateCertificates
          ? await executor.rotateCertificates(graph, options.rotateFrom, hooks)
          : await executor.deploy(graph, hooks)
    } catch (error) {
      ctx.store.write(() => recordFailure(db, graph, touched, error))
      throw error
    }
    crashPoint(graph.vip?.status === 'PENDING_DELETE' ? 'vip-delete-before-row-removed' : 'deploy-before-mark-active')
    ctx.store.write(() => recordSuccess(db, graph, outcome))
    for (const warning of outcome.warnings) ctx.notify.warn(warning)
    return outcome
  })
}

export function counterHooks(ctx: AppContext, poolId: string): ExecutorHooks {
  return {
    countersBeforeReload: (raw) => {
      ctx.store.write(() => recordCounters(ctx.store.db, poolId, raw))
    },
    retiringWorker: {statePath: ctx.statePath, poolId},
  }
}

/**
 * Whether an object still exists and is not being deleted, read inside the transaction that
 * records an outcome. Another command may have changed it since `graph` was read (a delete
 * marks a member PENDING_DELETE while this deploy runs): that status is the delete's to
 * settle, and overwriting it would lose the delete.
 */
function settleableNow(db: Db, poolId: string): (key: string) => boolean {
  const now = loadPoolGraph(db, poolId)
  const statuses = new Map<string, ProvisioningStatus>()
  if (now?.vip) statuses.set(now.vip.id, now.vip.status)
  for (const member of now?.members ?? []) statuses.set(member.id, member.status)
  for (const association of now?.associations ?? []) statuses.set(`association ${association.monitor_id}`, association.status)
  return (key) => {
    const status = statuses.get(key)
    return status !== undefined && status !== 'PENDING_DELETE'
  }
}

function recordSuccess(db: Db, graph: PoolGraph, outcome: DeployOutcome): void {
  const description = outcome.description
  const settleable = settleableNow(db, graph.pool.id)
  setPoolStatus(db, graph.pool.id, 'ACTIVE', description)
  if (graph.vip) {
    if (graph.vip.status === 'PENDING_DELETE') deleteVipRow(db, graph.vip.id)
    else if (SETTLED_BY_DEPLOY.includes(graph.vip.status) && settleable(graph.vip.id)) setVipStatus(db, graph.vip.id, 'ACTIVE', description)
  }
  for (const member of graph.members) {
    if (member.status === 'PENDING_DELETE') deleteMemberRow(db, member.id)
    else if (SETTLED_BY_DEPLOY.includes(member.status) && settleable(member.id)) setMemberStatus(db, member.id, 'ACTIVE', description)
  }
  for (const association of graph.associations) {
    if (association.status === 'PENDING_DELETE') deleteAssociationRow(db, graph.pool.id, association.monitor_id)
    else if (SETTLED_BY_DEPLOY.includes(association.status) && settleable(`association ${association.monitor_id}`)) {
      setAssociationStatus(db, graph.pool.id, association.monitor_id, 'ACTIVE', description)
    }
  }
  if (outcome.state !== 'serving') setPoolOperatingStatus(db, graph.pool.id, 'OFFLINE')
  // A started or reloaded HAProxy counts from zero. Say so now: a new worker that outgrows
  // the last reading before the next one would otherwise look like the old one, and the
  // counts of the old one would be lost from the totals.
  if (outcome.reloaded) recordCounters(db, graph.pool.id, {bytes_in: 0, bytes_out: 0, total_connections: 0, active_connections: 0})
}

/**
 * Changed objects become ERROR. Objects being deleted are deleted anyway, so an object in
 * ERROR can always be deleted; the pool then says the host lags behind until `lbaas sync`.
 */
function recordFailure(db: Db, graph: PoolGraph, touched: Touched, error: unknown): void {
  const reason = describeFailure(error)
  const poolId = graph.pool.id
  const settleable = settleableNow(db, poolId)
  let deletedSomething = false
  if (graph.vip?.status === 'PENDING_DELETE') {
    deleteVipRow(db, graph.vip.id)
    deletedSomething = true
    // The agent keeps serving the address (it restores the pool from its own state) until
    // it is told: `lbaas sync`, or the next job for that agent, removes the pool there.
    if (graph.pool.agent !== 'local' && error instanceof AgentUnreachableError) addPendingUndeploy(db, graph.pool.agent, poolId)
  } else if (graph.vip && touched.vipId === graph.vip.id && settleable(graph.vip.id)) {
    setVipStatus(db, graph.vip.id, 'ERROR', reason)
  }
  for (const member of graph.members) {
    if (member.status === 'PENDING_DELETE') {
      deleteMemberRow(db, member.id)
      deletedSomething = true
    } else if (touched.memberIds?.includes(member.id) && settleable(member.id)) setMemberStatus(db, member.id, 'ERROR', reason)
  }
  for (const association of graph.associations) {
    if (association.status === 'PENDING_DELETE') {
      deleteAssociationRow(db, poolId, association.monitor_id)
      deletedSomething = true
    } else if (touched.monitorIds?.includes(association.monitor_id) && settleable(`association ${association.monitor_id}`)) {
      setAssociationStatus(db, poolId, association.monitor_id, 'ERROR', reason)
    }
  }
  if (touched.pool || deletedSomething) {
    const host = graph.pool.agent === 'local' ? 'the host' : `agent ${graph.pool.agent} (when it answers)`
    const suffix = deletedSomething ? `; removed from the state file, run \`lbaas sync\` to update ${host}` : ''
    setPoolStatus(db, poolId, 'ERROR', `${reason}${suffix}`)
  }
}

export function describeFailure(error: unknown): string {
  if (error instanceof ConfigRejectedError) {
    const alert = error.haproxyOutput.split('\n').find((line) => line.includes('ALERT')) ?? error.haproxyOutput
    return `HAProxy rejected the configuration: ${alert.trim()}`.slice(0, 1000)
  }
  if (error instanceof LbaasError) return error.message.slice(0, 1000)
  return `unexpected failure: ${(error as Error)?.message ?? String(error)}`.slice(0, 1000)
}

/** A pool after reading its live health: the graph as now stored, and what HAProxy said. */
export interface RefreshedPool {
  graph: PoolGraph
  /** Cumulative counters including this reading; undefined when nothing was read. */
  counters: CumulativeCounters | undefined
  /** The reading itself; null when the pool is not deployed or not running. */
  live: LiveStats | null
}

/**
 * Reads the running HAProxy (SPEC §4.6), persists member health and cumulative counters,
 * and returns the totals with the reading; without a running pool, the stored graph only.
 */
export async function refreshPoolHealth(ctx: AppContext, poolId: string): Promise<RefreshedPool | undefined> {
  const {db} = ctx.store
  const current = () => ctx.store.read(() => loadPoolGraph(db, poolId))
  const before = current()
  if (!before?.vip) return before && {graph: before, counters: undefined, live: null}
  // Under the pool lock, so a reading never interleaves with the snapshot taken before a reload.
  const reading = await ctx.withPoolLock(poolId, async () => {
    const graph = current()
    let live: LiveStats | null = null
    try {
      live = graph?.vip ? await ctx.executorFor(graph.pool).liveStats(graph) : null
    } catch (error) {
      // The pool's agent does not answer: nothing is known about its health now.
      if (error instanceof AgentUnreachableError) ctx.store.write(() => setPoolOperatingStatus(db, poolId, 'ERROR'))
      throw error
    }
    if (!graph || !live) {
      ctx.store.write(() => setPoolOperatingStatus(db, poolId, 'OFFLINE'))
      return {counters: undefined, live: null}
    }
    return {counters: ctx.store.write(() => persistLiveStats(db, graph, live)), live}
  })
  const after = current()
  return after && {graph: after, ...reading}
}

/**
 * As refreshPoolHealth, for commands over many pools (`status`, `member list`): a pool whose
 * reading fails (its agent does not answer, another command holds its lock, its stats socket
 * is gone) is a warning on that pool and shows its stored figures, so one pool never hides
 * every other pool.
 */
export async function refreshPoolHealthOrWarn(ctx: AppContext, poolId: string): Promise<RefreshedPool | undefined> {
  try {
    return await refreshPoolHealth(ctx, poolId)
  } catch (error) {
    const name = ctx.store.read(() => loadPoolGraph(ctx.store.db, poolId))?.pool.name ?? poolId
    ctx.notify.warn(`pool ${name}: live health not read (stored figures shown): ${describeFailure(error)}`)
    const graph = ctx.store.read(() => loadPoolGraph(ctx.store.db, poolId))
    return graph && {graph, counters: undefined, live: null}
  }
}

/** How many pools' HAProxy (or agents) `refreshPoolsHealth` asks at once. */
const HEALTH_READS_AT_ONCE = 8

/**
 * refreshPoolHealth for many pools (`status`, `member list`), a few at a time so that the
 * waits on stats sockets and agents overlap; results in the order of `poolIds`. `strict`:
 * a pool whose agent does not answer fails the call (one named pool) instead of being a
 * warning (all pools).
 */
export function refreshPoolsHealth(
  ctx: AppContext,
  poolIds: readonly string[],
  strict: boolean,
): Promise<(RefreshedPool | undefined)[]> {
  return mapWithConcurrency(poolIds, HEALTH_READS_AT_ONCE, (poolId) => (strict ? refreshPoolHealth(ctx, poolId) : refreshPoolHealthOrWarn(ctx, poolId)))
}

/** Member health, pool operating status and cumulative counters from one reading. */
function persistLiveStats(db: Db, graph: PoolGraph, live: LiveStats): CumulativeCounters {
  const poolId = graph.pool.id
  const members = new Map(graph.members.map((member) => [member.id, member]))
  for (const server of live.members) {
    const member = members.get(server.id)
    // A member a command is working on keeps its PENDING_* status until that command ends.
    if (!member || member.status.startsWith('PENDING_')) continue
    setMemberHealth(db, server.id, {
      ...memberHealth(server.haproxy_status),
      health: server.health,
      failed_checks: server.failed_checks,
    })
  }
  const totals = recordCounters(db, poolId, live.counters)
  const fresh = loadPoolGraph(db, poolId)!
  setPoolOperatingStatus(db, poolId, servingPoolOperatingStatus(fresh))
  return totals
}
