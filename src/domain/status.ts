/**
 * Status rules (SPEC §3, §4.6): how HAProxy's view of a server becomes a member's
 * status/operating_status, and how members roll up into a pool's operating_status.
 */
import type {
  Member,
  MemberOperatingStatus,
  Monitor,
  PoolGraph,
  PoolOperatingStatus,
  ProvisioningStatus,
  Vip,
} from './types.js'

export const PENDING_STATUSES: readonly ProvisioningStatus[] = ['PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE']

export function isPending(status: ProvisioningStatus): boolean {
  return PENDING_STATUSES.includes(status)
}

/**
 * HAProxy server status (`show stat` column `status`) → member statuses.
 * `UP`, `UP 1/3` (going down) → ACTIVE/ONLINE; `DOWN`, `DOWN 1/2` (coming up) → INACTIVE/OFFLINE;
 * `MAINT` (admin down, also `MAINT (via …)`) → INACTIVE/OFFLINE; `DRAIN` → ACTIVE/DRAINING;
 * `NOLB` (soft-stopping) → ACTIVE/DRAINING; `no check` → ACTIVE/NO_MONITOR; anything else → ERROR.
 */
export function memberHealth(haproxyStatus: string): {status: ProvisioningStatus; operating_status: MemberOperatingStatus} {
  const status = haproxyStatus.trim()
  switch (status.split(/[\s(]/, 1)[0]) {
    case 'UP':
      return {status: 'ACTIVE', operating_status: 'ONLINE'}
    case 'DOWN':
    case 'MAINT':
      return {status: 'INACTIVE', operating_status: 'OFFLINE'}
    case 'DRAIN':
    case 'NOLB':
      return {status: 'ACTIVE', operating_status: 'DRAINING'}
    default:
      return status === 'no check' ? {status: 'ACTIVE', operating_status: 'NO_MONITOR'} : {status: 'ERROR', operating_status: 'ERROR'}
  }
}

/**
 * A pool's operating status from its members: OFFLINE when not serving (no VIP, admin
 * down, or not running); NO_MONITOR when no monitor drives HAProxy; otherwise ONLINE when
 * every enabled member is up, DEGRADED when some are, ERROR when none is.
 */
export function poolOperatingStatus(input: {
  serving: boolean
  adminUp: boolean
  monitored: boolean
  members: Pick<Member, 'admin_state_up' | 'operating_status'>[]
}): PoolOperatingStatus {
  if (!input.serving || !input.adminUp) return 'OFFLINE'
  if (!input.monitored) return 'NO_MONITOR'
  const enabled = input.members.filter((member) => member.admin_state_up)
  const online = enabled.filter((member) => member.operating_status === 'ONLINE' || member.operating_status === 'DRAINING')
  if (enabled.length > 0 && online.length === enabled.length) return 'ONLINE'
  if (online.length > 0) return 'DEGRADED'
  return 'ERROR'
}

/** A running pool's operating status from its members as they now stand. */
export function servingPoolOperatingStatus(graph: Pick<PoolGraph, 'pool' | 'vip' | 'members' | 'associations' | 'monitors'>): PoolOperatingStatus {
  return poolOperatingStatus({
    serving: true,
    adminUp: graph.pool.admin_state_up && (graph.vip?.admin_state_up ?? false),
    monitored: drivingMonitor(graph) !== undefined,
    members: graph.members,
  })
}

/**
 * The graph as one reading of its running HAProxy shows it, nothing stored: each member's
 * status and operating status from HAProxy's (a member a command is working on keeps its
 * PENDING_* status), and the pool's operating status (OFFLINE when `live` is null: not
 * running or not readable). The same rules refreshing health stores (service/apply.ts).
 */
export function withLiveHealth(graph: PoolGraph, live: {members: readonly {id: string; haproxy_status: string}[]} | null): PoolGraph {
  if (!live) return {...graph, pool: {...graph.pool, operating_status: 'OFFLINE'}}
  const servers = new Map(live.members.map((server) => [server.id, server]))
  const members = graph.members.map((member) => {
    const server = servers.get(member.id)
    return server && !member.status.startsWith('PENDING_') ? {...member, ...memberHealth(server.haproxy_status)} : member
  })
  const seen = {...graph, members}
  return {...seen, pool: {...graph.pool, operating_status: servingPoolOperatingStatus(seen)}}
}

/**
 * The monitor that drives HAProxy for a pool (SPEC §1): the first admin-up one by
 * association time, ignoring associations being removed or in ERROR.
 */
export function drivingMonitor(graph: Pick<PoolGraph, 'associations' | 'monitors'>): Monitor | undefined {
  const byId = new Map(graph.monitors.map((monitor) => [monitor.id, monitor]))
  const ordered = [...graph.associations].sort((a, b) => a.position - b.position)
  for (const association of ordered) {
    if (association.status === 'PENDING_DELETE' || association.status === 'ERROR') continue
    const monitor = byId.get(association.monitor_id)
    if (monitor?.admin_state_up) return monitor
  }
  return undefined
}

/** The VIP the host should serve: none while it is being deleted. */
export function liveVip(graph: PoolGraph): Vip | null {
  return graph.vip && graph.vip.status !== 'PENDING_DELETE' ? graph.vip : null
}
