/**
 * The apply file (SPEC §8.1) after parsing and validation: every value canonical, every
 * default filled in except those that depend on the state (a VIP's address, a pool's
 * `auto` agent), which the planner settles.
 */
import type {LbMethod, MonitorType, Protocol, SessionPersistence, VipProtocol} from '../domain/types.js'

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
  /** TERMINATED_HTTPS on an HTTP pool terminates TLS (SPEC §9). */
  protocol: VipProtocol
  protocol_port: number
  /** TERMINATED_HTTPS only: certificate names (in the file's `certs` or the state); null, [] and false otherwise. */
  default_cert: string | null
  sni_certs: string[]
  redirect_http: boolean
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

/** Where a certificate's material comes from: files (relative to the apply file) or inline PEM. */
export type CertSource =
  | {kind: 'files'; cert_file: string; key_file: string; chain_file?: string}
  | {kind: 'inline'; cert_pem: string; key_pem: string; chain_pem?: string}

/** The material of a certificate after it was read and checked (src/tls), as the planner compares it. */
export interface CheckedCert {
  fingerprint_sha256: string
  /** sha256 of the normalised (PKCS#8) key: compares keys without carrying them in the plan. */
  key_sha256: string
}

export interface DesiredCert {
  name: string
  /** Absent: a reference only (what `export` writes): the certificate must exist and is kept as is. */
  source?: CertSource
  /** With a reference: the fingerprint the existing certificate must have. */
  fingerprint_sha256?: string
  /** Set by the service once the source is read and checked; the planner needs it for every source. */
  checked?: CheckedCert
}

/** The whole desired state. */
export interface DesiredFile {
  stack: string
  certs: DesiredCert[]
  subnets: DesiredSubnet[]
  monitors: DesiredMonitor[]
  pools: DesiredPool[]
}
