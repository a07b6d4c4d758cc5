/**
 * Name-or-id references (SPEC §1): an id-shaped reference is looked up as an id first;
 * otherwise, or when no object has that id, by name. No match → NotFoundError (exit 5);
 * several → AmbiguousNameError listing the ids (exit 2).
 */
import {AmbiguousNameError, NotFoundError} from '../domain/errors.js'
import type {Certificate, Member, Monitor, Pool, Subnet, Vip} from '../domain/types.js'
import {looksLikeId} from '../domain/validation.js'
import type {Db} from '../store/db.js'
import {findCertificatesByName, getCertificate} from '../store/certificates.js'
import {getMember} from '../store/members.js'
import {findMonitorsByName, getMonitor} from '../store/monitors.js'
import {findPoolsByName, getPool} from '../store/pools.js'
import {findSubnetsByName, getSubnet} from '../store/subnets.js'
import {findVipsByName, getVip} from '../store/vips.js'

function byNameOrId<T extends {id: string}>(
  resource: string,
  ref: string,
  byId: (id: string) => T | undefined,
  byName: (name: string) => T[],
): T {
  if (looksLikeId(ref)) {
    const found = byId(ref.toLowerCase())
    if (found) return found
  }
  const named = byName(ref)
  if (named.length === 1) return named[0]
  if (named.length > 1) throw new AmbiguousNameError(resource, ref, named.map((item) => item.id))
  throw new NotFoundError(resource, ref)
}

function byIdOnly<T>(resource: string, ref: string, byId: (id: string) => T | undefined): T {
  const found = looksLikeId(ref) ? byId(ref.toLowerCase()) : undefined
  if (!found) throw new NotFoundError(resource, ref)
  return found
}

export const resolveSubnet = (db: Db, ref: string): Subnet =>
  byNameOrId('subnet', ref, (id) => getSubnet(db, id), (name) => findSubnetsByName(db, name))

export const resolvePool = (db: Db, ref: string): Pool =>
  byNameOrId('pool', ref, (id) => getPool(db, id), (name) => findPoolsByName(db, name))

export const resolveVip = (db: Db, ref: string): Vip =>
  byNameOrId('vip', ref, (id) => getVip(db, id), (name) => findVipsByName(db, name))

/** Members have no name: ids only, as in `neutron lb-member-show`. */
export const resolveMember = (db: Db, ref: string): Member => byIdOnly('member', ref, (id) => getMember(db, id))

/** Monitors by id, or by their optional name (SPEC §1). */
export const resolveMonitor = (db: Db, ref: string): Monitor =>
  byNameOrId('monitor', ref, (id) => getMonitor(db, id), (name) => findMonitorsByName(db, name))

export const resolveCertificate = (db: Db, ref: string): Certificate =>
  byNameOrId('certificate', ref, (id) => getCertificate(db, id), (name) => findCertificatesByName(db, name))
