/**
 * One reading of every local deployed pool for `lbaas metrics` (SPEC §10, docs/observability.md).
 * Read-only: no pool lock is taken and nothing is written to the state file. Each pool's
 * totals are its stored counter ledger plus HAProxy's live counters
 * (`totalsWithLiveReading`), and the ledger is read before and after HAProxy so that a
 * reload folding counters meanwhile is seen and the pool read again; health is computed
 * from the reading as `pool stats` would store it. A pool whose HAProxy cannot be read is
 * reported with `up: false` and its stored totals; it never fails the reading.
 */
import type {MemberOperatingStatus, PoolGraph, PoolOperatingStatus, ProvisioningStatus} from '../domain/types.js'
import {withLiveHealth} from '../domain/status.js'
import type {LiveStats} from '../executor/port.js'
import {certificateExpiries, type CertificateExpiry} from '../store/certificate-expiry.js'
import {loadPoolGraph} from '../store/graph.js'
import {memberHealthDetails} from '../store/members.js'
import {listPools} from '../store/pools.js'
import {counterLedger, recordedTotals, sameLedger, totalsWithLiveReading, type CumulativeCounters} from '../store/stats.js'
import {listVips} from '../store/vips.js'
import {mapWithConcurrency} from '../util/concurrency.js'
import type {AppContext} from './context.js'

export interface MemberMetrics {
  id: string
  address: string
  protocol_port: number
  /** HAProxy says the server is up (ACTIVE). */
  up: boolean
  weight: number
  admin_state_up: boolean
  operating_status: MemberOperatingStatus
  /** HAProxy's failed-check count for the server (it restarts at 0 with HAProxy). */
  failed_checks: number
  current_sessions: number
}

export interface PoolMetrics {
  id: string
  name: string
  vip: string
  protocol: string
  /** HAProxy answered this reading. */
  up: boolean
  status: ProvisioningStatus
  operating_status: PoolOperatingStatus
  bytes_in: number
  bytes_out: number
  total_connections: number
  active_connections: number
  members: MemberMetrics[]
}

export interface MetricsReading {
  pools: PoolMetrics[]
  certificates: CertificateExpiry[]
  /** Wall-clock milliseconds the reading took. */
  duration_ms: number
}

/** How many pools' stats sockets one reading asks at once. */
const POOLS_AT_ONCE = 16
/** Readings of a pool whose ledger changed meanwhile before its stored totals are taken instead. */
const ATTEMPTS = 3

export async function readMetrics(ctx: AppContext): Promise<MetricsReading> {
  const started = performance.now()
  const {db} = ctx.store
  const {poolIds, vipNames} = ctx.store.read(() => {
    const vips = new Map(listVips(db).map((vip) => [vip.pool_id, vip.name]))
    // Local pools only: an agent's pools are that agent's to expose.
    const ids = listPools(db).filter((pool) => pool.agent === 'local' && vips.has(pool.id)).map((pool) => pool.id)
    return {poolIds: ids, vipNames: vips}
  })
  const read = await mapWithConcurrency(poolIds, POOLS_AT_ONCE, (poolId) => readPool(ctx, poolId, vipNames.get(poolId) ?? ''))
  const pools = read.filter((pool): pool is PoolMetrics => pool !== undefined) // undefined: deleted while we read
  const certificates = ctx.store.read(() => certificateExpiries(db))
  return {pools, certificates, duration_ms: performance.now() - started}
}

async function readPool(ctx: AppContext, poolId: string, vipName: string): Promise<PoolMetrics | undefined> {
  const {db} = ctx.store
  const ledger = () => ctx.store.read(() => counterLedger(db, poolId))
  for (let attempt = 1; ; attempt++) {
    const before = ctx.store.read(() => ({graph: loadPoolGraph(db, poolId), ledger: counterLedger(db, poolId), details: memberHealthDetails(db, poolId)}))
    if (!before.graph) return undefined // deleted while we read
    const live = before.graph.vip ? await liveStatsOrNull(ctx, before.graph) : null
    if (!live) return poolMetrics(before.graph, vipName, recordedTotals(ledger()), null, before.details)
    const after = ledger()
    // The ledger changed while HAProxy answered (a reload folded its counters, the counter
    // keeper added an old worker's, another command recorded a reading): which worker
    // answered is not known, so the pool is read again.
    if (sameLedger(before.ledger, after)) return poolMetrics(before.graph, vipName, totalsWithLiveReading(after, live.counters), live, before.details)
    if (attempt === ATTEMPTS) return poolMetrics(before.graph, vipName, recordedTotals(after), live, before.details)
  }
}

async function liveStatsOrNull(ctx: AppContext, graph: PoolGraph): Promise<LiveStats | null> {
  try {
    return await ctx.executorFor(graph.pool).liveStats(graph)
  } catch {
    return null
  }
}

function poolMetrics(
  stored: PoolGraph,
  vipName: string,
  counters: CumulativeCounters,
  live: LiveStats | null,
  details: {id: string; failed_checks: number}[],
): PoolMetrics {
  const graph = withLiveHealth(stored, live)
  const servers = new Map((live?.members ?? []).map((server) => [server.id, server]))
  const storedChecks = new Map(details.map((row) => [row.id, row.failed_checks]))
  return {
    id: graph.pool.id,
    name: graph.pool.name,
    vip: graph.vip?.name ?? vipName,
    protocol: graph.pool.protocol,
    up: live !== null,
    status: graph.pool.status,
    operating_status: graph.pool.operating_status,
    bytes_in: counters.bytes_in,
    bytes_out: counters.bytes_out,
    total_connections: counters.total_connections,
    active_connections: live ? counters.active_connections : 0,
    members: graph.members.map((member) => ({
      id: member.id,
      address: member.address,
      protocol_port: member.protocol_port,
      up: live !== null && member.status === 'ACTIVE',
      weight: member.weight,
      admin_state_up: member.admin_state_up,
      operating_status: member.operating_status,
      failed_checks: servers.get(member.id)?.failed_checks ?? storedChecks.get(member.id) ?? 0,
      current_sessions: servers.get(member.id)?.traffic?.active_connections ?? 0,
    })),
  }
}

export type PoolCounterFigures = Pick<PoolMetrics, 'bytes_in' | 'bytes_out' | 'total_connections'>

/**
 * Each pool's counters as the highest value exposed so far, so that Prometheus never sees a
 * reset: `metrics serve` keeps one for its lifetime, `--textfile` starts it from the file it
 * replaces. A reading may fall below an earlier one (an old worker's traffic after the
 * reload snapshot joins the ledger only once that worker drains; a pool not readable shows
 * its stored totals); the exposed figure then holds until the real one passes it. Pools no
 * longer read are forgotten.
 */
export function monotonicCounters(exposed: ReadonlyMap<string, PoolCounterFigures> = new Map()): (reading: MetricsReading) => MetricsReading {
  let highest = exposed
  return (reading) => {
    const next = new Map<string, PoolCounterFigures>()
    const pools = reading.pools.map((pool) => {
      const last = highest.get(pool.id)
      const counters = {
        bytes_in: Math.max(pool.bytes_in, last?.bytes_in ?? 0),
        bytes_out: Math.max(pool.bytes_out, last?.bytes_out ?? 0),
        total_connections: Math.max(pool.total_connections, last?.total_connections ?? 0),
      }
      next.set(pool.id, counters)
      return {...pool, ...counters}
    })
    highest = next
    return {...reading, pools}
  }
}
