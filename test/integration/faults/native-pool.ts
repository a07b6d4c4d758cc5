/**
 * A native DEPLOY message (SPEC §6) for a one-member HTTP pool on a lab subnet of the
 * worker's own state file: the shape a controller sends, with fixed ids so a test can
 * find (and UNDEPLOY) what it placed.
 */
import Database from 'better-sqlite3'

import type {LabInfo} from '../../helpers/traffic-lab.js'

export interface NativePool {
  pool: string
  member: string
  vip: string
  monitor: string
  vipAddress: string
}

export function nativePoolIds(lab: LabInfo, prefix: string, vipHost: number): NativePool {
  const id = (last: string) => `${prefix}-1b2d-4c5e-8f90-a1b2c3d4e5${last}`
  return {pool: id('f6'), member: id('f7'), vip: id('f8'), monitor: id('f9'), vipAddress: `${lab.base}.${vipHost}`}
}

/** A subnet of a state file as a native message carries it (`managed` a boolean). */
export function subnetForMessage(statePath: string, subnetId: string): Record<string, unknown> {
  const db = new Database(statePath, {readonly: true})
  try {
    const row = db.prepare('SELECT id, name, cidr, gateway_ip, bridge, managed FROM subnets WHERE id = ?').get(subnetId) as Record<string, unknown>
    return {...row, managed: row.managed === 1}
  } finally {
    db.close()
  }
}

export function deployMessage(statePath: string, lab: LabInfo, ids: NativePool, memberBackend = 2): Record<string, unknown> {
  const subnet = subnetForMessage(statePath, lab.subnetId)
  const status = {status: 'PENDING_CREATE', status_description: null}
  return {
    lbaas_action: 'DEPLOY',
    lbaas_version: 1,
    graph: {
      pool: {
        id: ids.pool, name: 'p', description: '', subnet_id: lab.subnetId, protocol: 'HTTP', lb_method: 'ROUND_ROBIN', admin_state_up: true,
        ...status, operating_status: 'OFFLINE', vip_id: ids.vip,
      },
      subnet,
      members: [{
        id: ids.member, pool_id: ids.pool, address: lab.backend(memberBackend).address, protocol_port: 8000, weight: 1, admin_state_up: true,
        ...status, operating_status: 'NO_MONITOR',
      }],
      monitors: [{id: ids.monitor, type: 'HTTP', delay: 5, timeout: 2, max_retries: 2, http_method: 'GET', url_path: '/', expected_codes: '200', admin_state_up: true}],
      associations: [{pool_id: ids.pool, monitor_id: ids.monitor, ...status, position: 0}],
      vip: {
        id: ids.vip, name: 'v', description: '', pool_id: ids.pool, subnet_id: lab.subnetId, address: ids.vipAddress, protocol: 'HTTP', protocol_port: 80,
        connection_limit: -1, session_persistence: null, admin_state_up: true, ...status,
      },
      vipSubnet: subnet,
    },
  }
}
