/**
 * The HA part of native DEPLOY/RUNTIME (SPEC §11): which peer of an active/standby pool the
 * agent runs, the pool's VRRP router id and both peers' addresses. Messages that carry it
 * say `lbaas_version: 2`, which an agent without HA refuses ("this agent speaks lbaas
 * protocol 1"), instead of deploying the pool as a plain one. Pure.
 */
import {ValidationError} from '../domain/errors.js'
import {ipAddress} from '../domain/validation.js'

/** The version of native messages that carry `ha`; plain messages keep version 1. */
export const LBAAS_HA_PROTOCOL_VERSION = 2

export interface HaWire {
  role: 'a' | 'b'
  virtual_router_id: number
  addresses: {a: string; b: string}
}

/** Checks the `ha` field of a request, field by field; undefined when absent. */
export function parseHaWire(value: unknown): HaWire | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError('ha', 'ha must be an object')
  const raw = value as Record<string, unknown>
  if (raw.role !== 'a' && raw.role !== 'b') throw new ValidationError('ha.role', 'ha.role must be a or b')
  const id = raw.virtual_router_id
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 255) {
    throw new ValidationError('ha.virtual_router_id', 'ha.virtual_router_id must be an integer from 1 to 255')
  }
  const addresses = raw.addresses as Record<string, unknown> | undefined
  if (typeof addresses !== 'object' || addresses === null) throw new ValidationError('ha.addresses', 'ha.addresses must be {a, b}')
  const a = ipAddress('ha.addresses.a', addresses.a).address
  const b = ipAddress('ha.addresses.b', addresses.b).address
  if (a === b) throw new ValidationError('ha.addresses', 'the two HA peers must have different addresses')
  return {role: raw.role, virtual_router_id: id, addresses: {a, b}}
}
