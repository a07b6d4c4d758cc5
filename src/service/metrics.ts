/**
 * One reading of every local deployed pool for `lbaas metrics` (SPEC §10): the same
 * refresh `pool stats` runs (it persists health and folds HAProxy's counters into the
 * cumulative totals), so the figures are equal to `pool stats` and never go backwards.
 * A pool whose HAProxy cannot be read is reported with `up: false` and its stored totals;
 * it never fails the reading.
 */
import type {MemberOperatingStatus, PoolOperatingStatus, ProvisioningStatus} from '../domain/types.js'
import {certificateExpiries, type CertificateExpiry} from '../store/certificate-expiry.js'
import {memberHealthDetails} from '../store/members.js'
import {listPools} from '../store/pools.js'
import {storedCounters} from '../store/stats.js'
import {listVips} from '../store/vips.js'
import {refreshPoolsHealth} from './apply.js'
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

export async function readMetrics(ctx: AppContext): Promise<MetricsReading> {
  const started = performance.now()
  const {db} = ctx.store
  const {poolIds, vipNames} = ctx.store.read(() => {
    const vips = new Map(listVips(db).map((vip) => [vip.pool_id, vip.name]))
    // Local pools only: an agent's pools are that agent's to expose.
    const ids = listPools(db).filter((pool) => pool.agent === 'local' && vips.has(pool.id)).map((pool) => pool.id)
    return {poolIds: ids, vipNames: vips}
  })
  const refreshed = await refreshPoolsHealth(ctx, poolIds, false)
  const pools: PoolMetrics[] = []
  for (const [index, poolId] of poolIds.entries()) {
    const reading = refreshed[index]
    if (!reading) continue // deleted while we read
    const {graph, live} = reading
    const counters = reading.counters ?? ctx.store.read(() => storedCounters(db, poolId))
    const servers = new Map((live?.members ?? []).map((server) => [server.id, server]))
    const details = new Map(ctx.store.read(() => memberHealthDetails(db, poolId)).map((row) => [row.id, row]))
    pools.push({
      id: graph.pool.id,
      name: graph.pool.name,
      vip: graph.vip?.name ?? vipNames.get(poolId) ?? '',
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
        failed_checks: servers.get(member.id)?.failed_checks ?? details.get(member.id)?.failed_checks ?? 0,
        current_sessions: servers.get(member.id)?.traffic?.active_connections ?? 0,
      })),
    })
  }
  const certificates = ctx.store.read(() => certificateExpiries(db))
  return {pools, certificates, duration_ms: performance.now() - started}
}
