/**
 * The plain listings (`subnet|pool|monitor|vip list`): what they read, their table columns
 * and their fields. The list commands and the fast path of bin/run.js both use this table.
 */
import {listAllCertificates} from '../service/certificates.js'
import type {AppContext} from '../service/context.js'
import {listAllMonitors} from '../service/monitors.js'
import {listAllPools} from '../service/pools.js'
import {listAllSubnets} from '../service/subnets.js'
import {listAllVips} from '../service/vips.js'

export interface Listing {
  rows(ctx: AppContext): readonly object[]
  /** Columns of the table. */
  columns: readonly string[]
  /** Every field (what --json prints, and what -c may choose from). */
  fields: readonly string[]
}

/** Columns of the lab commands' tables (`lab up|down|status`). */
export const LAB_COLUMNS = ['name', 'subnet', 'address', 'port', 'tls', 'running', 'healthy'] as const

/** Columns of `agent list`. */
export const AGENT_COLUMNS = ['name', 'alive', 'pools', 'version', 'last_seen'] as const

export const LISTINGS = {
  subnet: {
    rows: listAllSubnets,
    columns: ['id', 'name', 'cidr', 'gateway_ip', 'bridge', 'managed'],
    fields: ['id', 'name', 'cidr', 'gateway_ip', 'bridge', 'managed'],
  },
  pool: {
    rows: listAllPools,
    columns: ['id', 'name', 'protocol', 'lb_method', 'admin_state_up', 'status', 'operating_status'],
    fields: [
      'id', 'name', 'description', 'subnet_id', 'protocol', 'lb_method', 'admin_state_up', 'status', 'status_description',
      'operating_status', 'vip_id', 'members', 'health_monitors', 'agent',
    ],
  },
  monitor: {
    rows: listAllMonitors,
    columns: ['id', 'name', 'type', 'delay', 'timeout', 'max_retries', 'admin_state_up'],
    fields: ['id', 'name', 'type', 'delay', 'timeout', 'max_retries', 'http_method', 'url_path', 'expected_codes', 'admin_state_up', 'pools'],
  },
  vip: {
    rows: listAllVips,
    columns: ['id', 'name', 'address', 'protocol', 'protocol_port', 'pool_id', 'admin_state_up', 'status'],
    fields: [
      'id', 'name', 'description', 'pool_id', 'subnet_id', 'address', 'protocol', 'protocol_port', 'connection_limit',
      'session_persistence', 'default_cert', 'sni_certs', 'redirect_http', 'syslog', 'admin_state_up', 'status', 'status_description',
    ],
  },
  cert: {
    // Soonest expiry first (SPEC §9).
    rows: listAllCertificates,
    columns: ['id', 'name', 'subject', 'not_after', 'days_left', 'key_type', 'used_by'],
    fields: ['id', 'name', 'subject', 'sans', 'issuer', 'not_before', 'not_after', 'days_left', 'fingerprint_sha256', 'key_type', 'used_by'],
  },
} satisfies Record<string, Listing>

export type ListingTopic = keyof typeof LISTINGS
