/**
 * The apply file (SPEC §8.1) after parsing and validation: every value canonical, every
 * default filled in except those that depend on the state (a VIP's address, a pool's
 * `auto` agent), which the planner settles.
 */
import type {Member, MonitorSettings, Pool, Subnet, Vip} from '../domain/types.js'

export const API_VERSION = 'lbaas/v1'

/** One thing wrong with a file, at its path (`pools[1].members[0].weight`). */
export interface Problem {
  path: string
  message: string
}

/** The shapes below take their fields from the resources (domain/types.ts); references are by name. */
export interface DesiredSubnet extends Pick<Subnet, 'name' | 'cidr'> {
  /** Absent: the first host address (as `subnet create`). */
  gateway_ip?: string
  /** Absent: a bridge lbaas creates and owns. */
  bridge?: string
}

export interface DesiredMonitor extends MonitorSettings {
  name: string
}

export type DesiredMember = Pick<Member, 'address' | 'protocol_port' | 'weight' | 'admin_state_up'>

/**
 * `default_cert` and `sni_certs` (TERMINATED_HTTPS only, SPEC §9) name certificates (in the
 * file's `certs` or the state) instead of holding ids; null, [] and false otherwise.
 */
export interface DesiredVip
  extends Pick<
    Vip,
    | 'name'
    | 'description'
    | 'protocol'
    | 'protocol_port'
    | 'default_cert'
    | 'sni_certs'
    | 'redirect_http'
    | 'connection_limit'
    | 'session_persistence'
    | 'syslog'
    | 'admin_state_up'
  > {
  /** A subnet name; defaults to the pool's. */
  subnet: string
  /** Absent: kept when the VIP exists, the first free address when it is created. */
  address?: string
}

export interface DesiredPool extends Pick<Pool, 'name' | 'description' | 'protocol' | 'lb_method' | 'admin_state_up'> {
  /** A subnet name. */
  subnet: string
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
