/**
 * The apply file (SPEC §8.1) after parsing and validation: every value canonical, every
 * default filled in except those that depend on the state (a VIP's address, a pool's
 * `auto` agent), which the planner settles.
 */
import type {LbMethod, MonitorType, Protocol, SessionPersistence} from '../domain/types.js'

export const API_VERSION = 'lbaas/v1'

/** One thing wrong with a file, at its path (`pools[1].members[0].weight`). */
export interface Problem {
  path: string
  message: string
}

export interface DesiredSubnet {
  name: string
  cidr: string
  /** Absent: the first host address (as `subnet create`). */
  gateway_ip?: string
  /** Absent: a bridge lbaas creates and owns. */
  bridge?: string
}

export interface DesiredMonitor {
  name: string
  type: MonitorType
  delay: number
  timeout: number
  max_retries: number
  http_method: string
  url_path: string
  expected_codes: string
  admin_state_up: boolean
}

export interface DesiredMember {
  address: string
  protocol_port: number
  weight: number
  admin_state_up: boolean
}

export interface DesiredVip {
  name: string
  description: string
  /** A subnet name; defaults to the pool's. */
  subnet: string
  protocol: Protocol
  protocol_port: number
  /** Absent: kept when the VIP exists, the first free address when it is created. */
  address?: string
  connection_limit: number
  session_persistence: SessionPersistence | null
  /** Access log copy to a syslog server (`IPv4:PORT` / `[IPv6]:PORT`); null: the ring only. */
  syslog: string | null
  admin_state_up: boolean
}

export interface DesiredPool {
  name: string
  description: string
  /** A subnet name. */
  subnet: string
  protocol: Protocol
  lb_method: LbMethod
  admin_state_up: boolean
  /** `local`, `auto` or an agent name; absent: `local` for a new pool, unchanged for an existing one. */
  agent?: string
  /** Monitor names, in association order. */
  monitors: string[]
  members: DesiredMember[]
  vip: DesiredVip | null
}

/**
 * The whole desired state. Certificates (SPEC §9) join as a `certs` list and VIP fields
 * (`default_cert`, `sni_certs`, `redirect_http`) through the same path: schema property,
 * validation in validate.ts, a kind in the planner.
 */
export interface DesiredFile {
  stack: string
  subnets: DesiredSubnet[]
  monitors: DesiredMonitor[]
  pools: DesiredPool[]
}
