/**
 * One reading of a pool's members for `lbaas pool stats --watch`: health as `lbaas status`
 * shows it (and persists it), plus each server's live counters from HAProxy. Rates are the
 * caller's business: it compares two samples.
 */
import type {PoolOperatingStatus} from '../domain/types.js'
import {seconds} from '../domain/validation.js'
import {memberHealthDetails} from '../store/members.js'
import {refreshPoolHealthOrWarn} from './apply.js'
import type {AppContext} from './context.js'
import {resolvePool} from './resolve.js'
import {memberSummary, type MemberSummary} from './status.js'

export interface MemberTraffic extends MemberSummary {
  /** HAProxy's last check result, e.g. L7OK, L7STS, L4CON; empty without a monitor. */
  health: string
  active_connections: number
  total_connections: number
  bytes_in: number
  bytes_out: number
}

export interface PoolTrafficSample {
  pool: {id: string; name: string; protocol: string; lb_method: string; operating_status: PoolOperatingStatus}
  vip: {address: string; protocol_port: number} | null
  /** Whether HAProxy answered: without it the counters are zero and health is the last known. */
  live: boolean
  /** Monotonic milliseconds (performance.now()) of the reading, for rates. */
  taken_at: number
  members: MemberTraffic[]
}

/** Seconds between `--watch` readings: `--interval`, 0.5–3600, 2 when not given. */
export function watchIntervalSeconds(interval: string | undefined): number {
  return interval === undefined ? 2 : seconds('interval', interval, 0.5, 3600)
}

export async function samplePoolTraffic(ctx: AppContext, ref: string): Promise<PoolTrafficSample> {
  const pool = resolvePool(ctx.store.db, ref)
  const refreshed = await refreshPoolHealthOrWarn(ctx, pool.id)
  const graph = refreshed?.graph
  if (!graph) return {pool: {...pool}, vip: null, live: false, taken_at: performance.now(), members: []}
  const live = refreshed.live
  const taken_at = performance.now()
  const servers = new Map((live?.members ?? []).map((server) => [server.id, server]))
  const details = new Map(memberHealthDetails(ctx.store.db, pool.id).map((row) => [row.id, row]))
  return {
    pool: {
      id: graph.pool.id,
      name: graph.pool.name,
      protocol: graph.pool.protocol,
      lb_method: graph.pool.lb_method,
      operating_status: graph.pool.operating_status,
    },
    vip: graph.vip && {address: graph.vip.address, protocol_port: graph.vip.protocol_port},
    live: live !== null,
    taken_at,
    members: graph.members.map((member) => {
      const traffic = servers.get(member.id)?.traffic
      return {
        ...memberSummary(member),
        health: servers.get(member.id)?.health ?? details.get(member.id)?.health ?? '',
        active_connections: traffic?.active_connections ?? 0,
        total_connections: traffic?.total_connections ?? 0,
        bytes_in: traffic?.bytes_in ?? 0,
        bytes_out: traffic?.bytes_out ?? 0,
      }
    }),
  }
}
