/**
 * The agent side of SPEC §6: native messages (`lbaas_action`) from a controller. DEPLOY
 * and RUNTIME store the pool graph in the agent's state file (same ids as the controller)
 * and deploy it through the same pipeline as local work (`applyPool`); UNDEPLOY removes it;
 * STATS reads HAProxy; DISCOVER describes the agent. Never throws: errors become
 * `{lbaas_response: FAIL, error: {code, message, exit}}`.
 */
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'

import {RuntimeFailure, ValidationError} from '../domain/errors.js'
import type {CertificateBundle} from '../domain/types.js'
import {runningMaster} from '../host/haproxy-process.js'
import {liveVip} from '../domain/status.js'
import {poolLockPath, poolPaths} from '../host/names.js'
import {liveLockHolder} from '../host/lock.js'
import {
  LBAAS_PROTOCOL_VERSION,
  NATIVE_ACTIONS,
  wireError,
  type AgentDiscovery,
  type AgentStats,
  type HostedPool,
  type NativeResponse,
} from '../agent/protocol.js'
import {applyPool} from '../service/apply.js'
import type {AppContext} from '../service/context.js'
import {loadPoolGraph} from '../store/graph.js'
import {deleteHostedPool, isHosted, upsertPoolGraph} from '../store/hosted-pools.js'
import {listVips} from '../store/vips.js'
import {recordCounters, storedCounters} from '../store/stats.js'
import type {LibraDevice} from './libra/device.js'
import {haproxyPem} from '../tls/certificate.js'
import {parsePoolGraph} from './native-graph.js'
import {lbaasVersion} from './version.js'
import {haPeerStatus} from '../host/ha-peer.js'
import {deleteHaLocalPeer, getHaLocalPeer, saveHaLocalPeer} from '../store/ha.js'
import {LBAAS_HA_PROTOCOL_VERSION, parseHaWire, type HaWire} from '../service/ha-protocol.js'

/** How far an agent's clock may run ahead of its controller's before a job counts as expired. */
const CLOCK_SKEW_MS = 5_000

export interface NativeEnvironment {
  ctx: AppContext
  device: LibraDevice
  functionName: string
  concurrency: number
  runningJobs(): number
  /** A slow job for this pool is queued or running in this worker. */
  busy(poolId: string): boolean
}

export interface NativeOutcome {
  response: NativeResponse
  action: string
  pool?: string
  result: 'PASS' | 'FAIL'
  error?: string
}

function poolIdOf(request: Record<string, unknown>): string | undefined {
  const graph = request.graph as {pool?: {id?: unknown}} | undefined
  const candidate = typeof request.pool_id === 'string' ? request.pool_id : graph?.pool?.id
  return typeof candidate === 'string' ? candidate : undefined
}

/** The key a native job is ordered by (its pool), known before the job runs. */
export function nativeJobKey(request: Record<string, unknown>): string {
  return `pool:${poolIdOf(request) ?? 'none'}`
}

export async function handleNative(request: Record<string, unknown>, env: NativeEnvironment): Promise<NativeOutcome> {
  // JSON text, not String(): `{"toString": null}` is valid JSON that String() throws on.
  const action = typeof request.lbaas_action === 'string' ? request.lbaas_action.toUpperCase() : (JSON.stringify(request.lbaas_action) ?? 'undefined')
  const pool = poolIdOf(request)
  try {
    checkEnvelope(request, action)
    const body = await dispatch(action, request, env)
    return {response: {lbaas_response: 'PASS', lbaas_action: action, ...body}, action, pool, result: 'PASS'}
  } catch (error) {
    const wire = wireError(error)
    return {response: {lbaas_response: 'FAIL', lbaas_action: action, error: wire}, action, pool, result: 'FAIL', error: wire.message}
  }
}

function checkEnvelope(request: Record<string, unknown>, action: string): void {
  // Version 2 is version 1 plus the HA part of DEPLOY/RUNTIME (SPEC §11).
  if (request.lbaas_version !== LBAAS_PROTOCOL_VERSION && request.lbaas_version !== LBAAS_HA_PROTOCOL_VERSION) {
    throw new RuntimeFailure(
      'unsupported_version',
      `this agent speaks lbaas protocol ${LBAAS_PROTOCOL_VERSION}, the request says ${JSON.stringify(request.lbaas_version ?? null)}`,
      'run the same lbaas version on the controller and its agents',
    )
  }
  if (!(NATIVE_ACTIONS as readonly string[]).includes(action)) {
    throw new ValidationError('lbaas_action', `unknown lbaas_action ${JSON.stringify(request.lbaas_action)}; expected one of ${NATIVE_ACTIONS.join(', ')}`)
  }
  if (request.expires_at !== undefined) {
    const expires = typeof request.expires_at === 'string' ? Date.parse(request.expires_at) : Number.NaN
    if (Number.isNaN(expires)) throw new ValidationError('expires_at', 'expires_at must be an ISO time')
    if (Date.now() > expires + CLOCK_SKEW_MS) {
      throw new RuntimeFailure('job_expired', `the job expired at ${request.expires_at}, before this agent got it; the controller has given up on it`)
    }
  }
}

async function dispatch(action: string, request: Record<string, unknown>, env: NativeEnvironment): Promise<Record<string, unknown>> {
  switch (action) {
    case 'DEPLOY':
      return deploy(env, request.graph, undefined, parseHaWire(request.ha))
    case 'RUNTIME': {
      const memberIds = Array.isArray(request.member_ids) ? request.member_ids.filter((id): id is string => typeof id === 'string') : []
      return deploy(env, request.graph, memberIds, parseHaWire(request.ha))
    }
    case 'UNDEPLOY':
      await undeploy(env, requirePoolId(request))
      return {}
    case 'STATS': {
      const poolId = requirePoolId(request)
      return {stats: await stats(env, poolId), ha_state: haState(env.ctx, poolId)}
    }
    case 'DISCOVER':
      return {discovery: discover(env)}
    default:
      throw new ValidationError('lbaas_action', `unknown lbaas_action ${action}`)
  }
}

function requirePoolId(request: Record<string, unknown>): string {
  const poolId = request.pool_id
  if (typeof poolId !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(poolId)) {
    throw new ValidationError('pool_id', 'pool_id must be a UUID')
  }
  return poolId.toLowerCase()
}

/**
 * `counters_restarted`: this agent's counters for the pool start from zero (the pool is new
 * here). They are cumulative across the agent's own reloads, so a reload alone is not that.
 */
async function deploy(env: NativeEnvironment, rawGraph: unknown, runtimeMemberIds: string[] | undefined, ha: HaWire | undefined) {
  const {ctx} = env
  const graph = parsePoolGraph(rawGraph, ctx.safeConnectionLimit())
  const vip = liveVip(graph)
  if (ha) {
    if (vip && (vip.address === ha.addresses.a || vip.address === ha.addresses.b)) {
      throw new ValidationError('ha.addresses', `the HA peers' addresses must differ from the VIP ${vip.address}`)
    }
    ctx.store.write(() =>
      saveHaLocalPeer(ctx.store.db, {pool_id: graph.pool.id, role: ha.role, virtual_router_id: ha.virtual_router_id, address_a: ha.addresses.a, address_b: ha.addresses.b}),
    )
  }
  // The bridge is this host's: a controller's `subnet create` made it on the controller only.
  if (vip && graph.vipSubnet) await ctx.localExecutor.ensureSubnet(graph.vipSubnet)
  const fresh = !ctx.store.read(() => isHosted(ctx.store.db, graph.pool.id))
  // A renewed certificate alone is swapped through the runtime API, as on the controller's host.
  const before = fresh ? undefined : ctx.store.read(() => loadPoolGraph(ctx.store.db, graph.pool.id))
  const rotateFrom = before && certificatesRenewed(before.certs, graph.certs) ? before.certs : undefined
  ctx.store.write(() => upsertPoolGraph(ctx.store.db, graph))
  const touched = {
    pool: true,
    vipId: graph.vip?.id,
    memberIds: graph.members.map((member) => member.id),
    monitorIds: graph.monitors.map((monitor) => monitor.id),
  }
  const outcome =
    (await applyPool(ctx, graph.pool.id, touched, runtimeMemberIds ? {runtimeMemberIds} : {rotateFrom})) ??
    ({state: 'absent', reloaded: false, description: null, warnings: []} as const)
  // A pool without a VIP is state only: nothing for this agent to keep.
  if (!vip) ctx.store.write(() => deleteHostedPool(ctx.store.db, graph.pool.id))
  const running = runningMaster(poolPaths(ctx.runDir, graph.pool.id)) !== undefined
  return {outcome, counters_restarted: fresh && outcome.state === 'serving', config_hash: running ? configHash(ctx.runDir, graph.pool.id) : null}
}

function certificatesRenewed(before: readonly CertificateBundle[], after: readonly CertificateBundle[]): boolean {
  const previous = new Map(before.map((cert) => [cert.id, haproxyPem(cert)]))
  return after.some((cert) => previous.has(cert.id) && previous.get(cert.id) !== haproxyPem(cert))
}

async function undeploy(env: NativeEnvironment, poolId: string): Promise<void> {
  const {ctx} = env
  await ctx.withPoolLock(poolId, async () => {
    // A pool this agent never hosted (a controller cleaning up after a move that failed before
    // anything reached here) has nothing of this agent's to remove; another agent or a local
    // pool on the same host may run under that pool id, and it is not ours to touch (§4.7).
    // Asked under the lock, so a DEPLOY of the same pool still running is seen as hosted.
    if (!ctx.store.read(() => isHosted(ctx.store.db, poolId)) && !existsSync(poolPaths(ctx.runDir, poolId).dir)) return
    await ctx.executorFor({id: poolId, agent: 'local'}).undeploy(poolId)
  })
  ctx.store.write(() => {
    deleteHostedPool(ctx.store.db, poolId)
    deleteHaLocalPeer(ctx.store.db, poolId)
  })
}

/** Another process (the CLI or `lbaas sync` on this host) is changing the pool right now. */
export function lockedElsewhere(ctx: AppContext, poolId: string): boolean {
  const holder = liveLockHolder(poolLockPath(ctx.runDir, poolId))
  return holder !== undefined && holder.pid !== process.pid
}

/**
 * Live health and cumulative counters, without the pool lock (a STATS ping must not wait
 * for a deploy). While a deploy of the pool runs, the stored totals are reported: a
 * reading taken across its reload could fold the old process's counters twice.
 */
async function stats(env: NativeEnvironment, poolId: string): Promise<AgentStats> {
  const {ctx} = env
  const {db} = ctx.store
  const graph = loadPoolGraph(db, poolId)
  const empty: AgentStats = {running: false, counters: storedCounters(db, poolId), members: []}
  if (!graph?.vip) return empty
  const live = await ctx.executorFor(graph.pool).liveStats(graph)
  if (!live) return {...empty, counters: {...empty.counters, active_connections: 0}}
  const settled = !env.busy(poolId) && !lockedElsewhere(ctx, poolId)
  const counters = settled ? ctx.store.write(() => recordCounters(db, poolId, live.counters)) : storedCounters(db, poolId)
  return {running: true, counters, members: live.members}
}

/** This agent's keepalived state for an HA pool it hosts (MASTER, BACKUP, FAULT, STOP); null otherwise. */
function haState(ctx: AppContext, poolId: string): string | null {
  const row = ctx.store.read(() => getHaLocalPeer(ctx.store.db, poolId))
  return row ? haPeerStatus(ctx.runDir, poolId, row.role).vrrpState : null
}

function configHash(runDir: string, poolId: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(poolPaths(runDir, poolId).config)).digest('hex')
  } catch {
    return null
  }
}

function discover(env: NativeEnvironment): AgentDiscovery {
  const {ctx} = env
  const pools: HostedPool[] = listVips(ctx.store.db).map((vip) => {
    const running = runningMaster(poolPaths(ctx.runDir, vip.pool_id)) !== undefined
    const ha = ctx.store.read(() => getHaLocalPeer(ctx.store.db, vip.pool_id))
    const hosted: HostedPool = {id: vip.pool_id, running, config_hash: running ? configHash(ctx.runDir, vip.pool_id) : null}
    return ha ? {...hosted, ha_role: ha.role, ha_state: haState(ctx, vip.pool_id)} : hosted
  })
  const device = env.device.describe()
  return {
    version: lbaasVersion(),
    protocol: LBAAS_PROTOCOL_VERSION,
    function: env.functionName,
    pools,
    capacity: {concurrency: env.concurrency, running_jobs: env.runningJobs(), max_connections: ctx.safeConnectionLimit()},
    device: {mode: device.mode, state: device.state, address: device.address},
  }
}
