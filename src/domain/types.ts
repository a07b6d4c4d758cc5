/**
 * The resources of SPEC §1. Field names are the snake_case names of the JSON output,
 * exactly; these objects are what `--json` prints.
 */

export const PROTOCOLS = ['HTTP', 'HTTPS', 'TCP'] as const
export type Protocol = (typeof PROTOCOLS)[number]

/** A VIP's protocol: the pool's, or TLS terminated by HAProxy in front of an HTTP pool (SPEC §9). */
export const VIP_PROTOCOLS = [...PROTOCOLS, 'TERMINATED_HTTPS'] as const
export type VipProtocol = (typeof VIP_PROTOCOLS)[number]

export const LB_METHODS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'] as const
export type LbMethod = (typeof LB_METHODS)[number]

export const MONITOR_TYPES = ['PING', 'TCP', 'HTTP', 'HTTPS'] as const
export type MonitorType = (typeof MONITOR_TYPES)[number]

export const PERSISTENCE_TYPES = ['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE'] as const
export type PersistenceType = (typeof PERSISTENCE_TYPES)[number]

export const PROVISIONING_STATUSES = [
  'PENDING_CREATE',
  'PENDING_UPDATE',
  'PENDING_DELETE',
  'ACTIVE',
  'INACTIVE',
  'ERROR',
] as const
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number]

export type PoolOperatingStatus = 'ONLINE' | 'DEGRADED' | 'OFFLINE' | 'NO_MONITOR' | 'ERROR'
export type MemberOperatingStatus = 'ONLINE' | 'OFFLINE' | 'DRAINING' | 'NO_MONITOR' | 'ERROR'

export interface Subnet {
  id: string
  name: string
  cidr: string
  gateway_ip: string
  bridge: string
  managed: boolean
}

export interface Pool {
  id: string
  name: string
  description: string
  subnet_id: string
  protocol: Protocol
  lb_method: LbMethod
  admin_state_up: boolean
  status: ProvisioningStatus
  status_description: string | null
  operating_status: PoolOperatingStatus
  vip_id: string | null
  members: string[]
  health_monitors: string[]
  agent: string
}

export interface Member {
  id: string
  pool_id: string
  address: string
  protocol_port: number
  weight: number
  admin_state_up: boolean
  status: ProvisioningStatus
  status_description: string | null
  operating_status: MemberOperatingStatus
}

export interface MonitorPoolRef {
  pool_id: string
  status: ProvisioningStatus
}

export interface Monitor {
  id: string
  /** Optional (SPEC §1): when set, unique among monitors and usable as a reference. */
  name: string | null
  type: MonitorType
  delay: number
  timeout: number
  max_retries: number
  http_method: string
  url_path: string
  expected_codes: string
  admin_state_up: boolean
  pools: MonitorPoolRef[]
}

/** What a monitor checks and how often: everything but its identity and its pools. */
export type MonitorSettings = Omit<Monitor, 'id' | 'name' | 'pools'>

/** A monitor's settings alone, keys in the order of SPEC §1 (an export file, a hosted copy). */
export function monitorSettings(monitor: MonitorSettings): MonitorSettings {
  return {
    type: monitor.type,
    delay: monitor.delay,
    timeout: monitor.timeout,
    max_retries: monitor.max_retries,
    http_method: monitor.http_method,
    url_path: monitor.url_path,
    expected_codes: monitor.expected_codes,
    admin_state_up: monitor.admin_state_up,
  }
}

export type SessionPersistence =
  | {type: 'SOURCE_IP'}
  | {type: 'HTTP_COOKIE'}
  | {type: 'APP_COOKIE'; cookie_name: string}

export interface Vip {
  id: string
  name: string
  description: string
  pool_id: string
  subnet_id: string
  address: string
  protocol: VipProtocol
  protocol_port: number
  connection_limit: number
  session_persistence: SessionPersistence | null
  /** TERMINATED_HTTPS only (SPEC §9): certificate ids; null, [] and false otherwise. */
  default_cert: string | null
  sni_certs: string[]
  redirect_http: boolean
  /** Access log copy (SPEC §10): a syslog server as `IPv4:PORT` or `[IPv6]:PORT`; null: the ring only. */
  syslog: string | null
  admin_state_up: boolean
  status: ProvisioningStatus
  status_description: string | null
}

/** A TLS certificate as `cert show` prints it (SPEC §9). Never holds the key. */
export interface Certificate {
  id: string
  name: string
  subject: string
  sans: string[]
  issuer: string
  not_before: string
  not_after: string
  days_left: number
  fingerprint_sha256: string
  key_type: string
  /** Ids of the VIPs that serve it. */
  used_by: string[]
}

/**
 * What HAProxy needs to serve one certificate: leaf, chain (issuer first) and key as PEM.
 * Only the executor (and an agent, through DEPLOY) sees it; it is never printed.
 */
export interface CertificateBundle {
  id: string
  sans: string[]
  cert_pem: string
  chain_pem: string
  key_pem: string
}

export interface MemberStats {
  id: string
  status: ProvisioningStatus
  health: string
  failed_checks: number
}

export interface PoolStats {
  bytes_in: number
  bytes_out: number
  active_connections: number
  total_connections: number
  members: MemberStats[]
}

/** A pool-to-monitor association, in association order. */
export interface Association {
  pool_id: string
  monitor_id: string
  status: ProvisioningStatus
  status_description: string | null
  position: number
}

/**
 * Everything the executor needs to deploy one pool: the pool, its subnet, members,
 * monitor associations (ordered) and VIP. Built from the state file inside the pool lock.
 */
export interface PoolGraph {
  pool: Pool
  subnet: Subnet
  members: Member[]
  monitors: Monitor[]
  associations: Association[]
  vip: Vip | null
  vipSubnet: Subnet | null
  /** The certificates the VIP serves (TERMINATED_HTTPS), default first; [] otherwise. */
  certs: CertificateBundle[]
}
