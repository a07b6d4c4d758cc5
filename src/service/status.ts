import {drivingMonitor} from '../domain/status.js'
import type {Member, PoolOperatingStatus, ProvisioningStatus, Protocol} from '../domain/types.js'
import {listPools} from '../store/pools.js'
import {refreshPoolsHealth} from './apply.js'
import type {AppContext} from './context.js'
import {haLive, haOperatingStatus, type HaPeerLive} from './ha.js'
import {resolvePool} from './resolve.js'

/** What `status` (and `pool stats --watch`) shows of a member. */
export type MemberSummary = Pick<Member, 'id' | 'address' | 'protocol_port' | 'weight' | 'admin_state_up' | 'status' | 'operating_status'>

export function memberSummary(member: Member): MemberSummary {
  const {id, address, protocol_port, weight, admin_state_up, status, operating_status} = member
  return {id, address, protocol_port, weight, admin_state_up, status, operating_status}
}

/** One pool's status tree: VIP → pool → members and monitors (SPEC §2 `lbaas status`). */
export interface PoolStatusTree {
  vip: {id: string; name: string; address: string; protocol_port: number; status: ProvisioningStatus; admin_state_up: boolean} | null
  pool: {
    id: string
    name: string
    protocol: Protocol
    status: ProvisioningStatus
    status_description: string | null
    operating_status: PoolOperatingStatus
    admin_state_up: boolean
  }
  members: MemberSummary[]
  monitors: {id: string; type: string; status: ProvisioningStatus; drives_haproxy: boolean}[]
  /** HA pools (SPEC §11): each peer's keepalived state and which one is MASTER. */
  ha?: {master: 'a' | 'b' | null; peers: HaPeerLive[]}
}

export async function statusTrees(ctx: AppContext, poolRef?: string): Promise<PoolStatusTree[]> {
  const poolIds = poolRef ? [resolvePool(ctx.store.db, poolRef).id] : listPools(ctx.store.db).map((pool) => pool.id)
  const trees: PoolStatusTree[] = []
  for (const refreshed of await refreshPoolsHealth(ctx, poolIds, poolRef !== undefined)) {
    if (!refreshed) continue
    const {graph} = refreshed
    const driving = drivingMonitor(graph)
    const ha = graph.vip ? await haLive(ctx.store, ctx.agentTransport, graph.pool.id) : undefined
    const operatingStatus = ha ? haOperatingStatus(graph.pool.operating_status, ha) : graph.pool.operating_status
    trees.push({
      vip: graph.vip && {
        id: graph.vip.id,
        name: graph.vip.name,
        address: graph.vip.address,
        protocol_port: graph.vip.protocol_port,
        status: graph.vip.status,
        admin_state_up: graph.vip.admin_state_up,
      },
      pool: {
        id: graph.pool.id,
        name: graph.pool.name,
        protocol: graph.pool.protocol,
        status: graph.pool.status,
        status_description: graph.pool.status_description,
        operating_status: operatingStatus,
        admin_state_up: graph.pool.admin_state_up,
      },
      ...(ha ? {ha: {master: ha.master, peers: ha.peers}} : {}),
      members: graph.members.map(memberSummary),
      monitors: graph.associations.map((association) => ({
        id: association.monitor_id,
        type: graph.monitors.find((monitor) => monitor.id === association.monitor_id)?.type ?? '',
        status: association.status,
        drives_haproxy: driving?.id === association.monitor_id,
      })),
    })
  }
  return trees
}
