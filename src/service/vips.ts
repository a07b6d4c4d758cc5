import {randomUUID} from 'node:crypto'

import {ConflictError, NotFoundError, ValidationError} from '../domain/errors.js'
import {firstFreeHost, isUsableHost} from '../domain/ip.js'
import type {Pool, SessionPersistence, Subnet, Vip, VipProtocol} from '../domain/types.js'
import {
  bool,
  connectionLimit,
  displayName,
  freeText,
  ipAddress,
  protocolPort,
  sessionPersistence,
  syslogAddress,
  vipProtocol,
} from '../domain/validation.js'
import type {Db} from '../store/db.js'
import {setPoolStatus} from '../store/pools.js'
import {addressesInUse, getVip, insertVip, listVips, setVipStatus, updateVipRow, vipAddressTaken, type VipChanges} from '../store/vips.js'
import {crashPoint} from '../util/crash-point.js'
import {subnetNetwork} from './subnets.js'
import {applyPool} from './apply.js'
import type {AppContext} from './context.js'
import {resolveCertificate, resolvePool, resolveSubnet, resolveVip} from './resolve.js'

export interface VipInput {
  name: unknown
  description?: unknown
  protocol: unknown
  protocol_port: unknown
  subnet: string
  address?: unknown
  connection_limit?: unknown
  session_persistence?: unknown
  admin_state_up?: unknown
  /** TERMINATED_HTTPS only (SPEC §9): certificate names or ids. */
  default_cert?: string
  sni_certs?: readonly string[]
  redirect_http?: unknown
  /** Syslog server for a copy of the access log: `IPv4:PORT` or `[IPv6]:PORT`. */
  syslog?: unknown
}

function requireSameProtocol(protocol: VipProtocol, pool: Pool): void {
  if (protocol === 'TERMINATED_HTTPS' && pool.protocol !== 'HTTP') {
    throw new ValidationError(
      'protocol',
      `TERMINATED_HTTPS needs an HTTP pool; pool ${pool.name} is ${pool.protocol}`,
      pool.protocol === 'HTTPS' ? 'HTTPS pools pass TLS through to the members; make an HTTP pool to terminate TLS on the VIP' : undefined,
    )
  }
  if (protocol !== 'TERMINATED_HTTPS' && protocol !== pool.protocol) {
    throw new ValidationError('protocol', `VIP protocol ${protocol} does not match pool ${pool.name}'s protocol ${pool.protocol}`)
  }
}

interface TlsFields {
  default_cert: string | null
  sni_certs: string[]
  redirect_http: boolean
}

/** The TLS fields of a VIP, resolved to certificate ids; only TERMINATED_HTTPS takes them. */
function tlsFields(db: Db, protocol: VipProtocol, port: number, given: Partial<{default_cert: string; sni_certs: readonly string[]; redirect_http: boolean}>): TlsFields {
  if (protocol !== 'TERMINATED_HTTPS') {
    const stray = (['default_cert', 'sni_certs', 'redirect_http'] as const).find((key) =>
      key === 'sni_certs' ? (given.sni_certs?.length ?? 0) > 0 : key === 'redirect_http' ? given.redirect_http === true : given[key] !== undefined,
    )
    if (stray) throw new ValidationError(stray, `--${stray.replace('_', '-')} applies to TERMINATED_HTTPS VIPs only`)
    return {default_cert: null, sni_certs: [], redirect_http: false}
  }
  if (given.default_cert === undefined) {
    throw new ValidationError('default_cert', 'a TERMINATED_HTTPS VIP needs --default-cert CERT', 'see `lbaas cert list`, or `lbaas cert create`')
  }
  const redirect = given.redirect_http === true
  if (redirect && port === 80) throw new ValidationError('redirect_http', '--redirect-http listens on port 80, which the VIP itself uses; give another --protocol-port (443)')
  const sni = [...new Set((given.sni_certs ?? []).map((ref) => resolveCertificate(db, ref).id))]
  return {default_cert: resolveCertificate(db, given.default_cert).id, sni_certs: sni, redirect_http: redirect}
}

function requireNoVip(pool: Pool): void {
  if (pool.vip_id) {
    throw new ConflictError('vip_exists', `pool ${pool.name} already has VIP ${pool.vip_id}`, `a pool has at most one VIP; see \`lbaas vip show ${pool.vip_id}\``)
  }
}

/** The given address, checked against the subnet and other VIPs, or the first free one. */
function chooseAddress(db: Db, subnet: Subnet, requested: unknown): string {
  const network = subnetNetwork(subnet.cidr)
  if (requested === undefined) {
    const taken = addressesInUse(db)
    taken.add(subnet.gateway_ip)
    const free = firstFreeHost(network, taken)
    if (!free) throw new ConflictError('subnet_full', `subnet ${subnet.name} (${subnet.cidr}) has no free address left`, 'put the VIP on a larger subnet')
    return free
  }
  const address = ipAddress('address', requested).address
  if (!isUsableHost(network, address)) {
    throw new ValidationError('address', `address ${address} is not a host address inside subnet ${subnet.name} (${subnet.cidr})`)
  }
  if (address === subnet.gateway_ip) {
    throw new ValidationError('address', `address ${address} is the gateway of subnet ${subnet.name}`)
  }
  if (vipAddressTaken(db, address)) {
    throw new ConflictError('address_in_use', `another VIP already uses ${address}`, 'leave out --address for the first free one; `lbaas vip list` shows those taken')
  }
  return address
}

export async function createVip(ctx: AppContext, poolRef: string, input: VipInput): Promise<Vip> {
  const fields = {
    name: displayName(input.name),
    description: input.description === undefined ? '' : freeText('description', input.description),
    protocol: vipProtocol(input.protocol),
    protocol_port: protocolPort(input.protocol_port),
    connection_limit:
      input.connection_limit === undefined ? -1 : connectionLimit(input.connection_limit, ctx.safeConnectionLimit()),
    session_persistence:
      input.session_persistence === undefined ? null : sessionPersistence(input.session_persistence),
    admin_state_up: input.admin_state_up === undefined ? true : bool('admin_state_up', input.admin_state_up),
    syslog: input.syslog === undefined ? null : syslogAddress(input.syslog),
  }
  const redirect = input.redirect_http === undefined ? undefined : bool('redirect_http', input.redirect_http)
  const {db} = ctx.store
  const vip = ctx.store.write(() => {
    const pool = resolvePool(db, poolRef)
    requireNoVip(pool)
    requireSameProtocol(fields.protocol, pool)
    const tls = tlsFields(db, fields.protocol, fields.protocol_port, {
      default_cert: input.default_cert,
      sni_certs: input.sni_certs,
      redirect_http: redirect,
    })
    const subnet = resolveSubnet(db, input.subnet)
    const created: Vip = {
      id: randomUUID(),
      ...fields,
      ...tls,
      pool_id: pool.id,
      subnet_id: subnet.id,
      address: chooseAddress(db, subnet, input.address),
      status: 'PENDING_CREATE',
      status_description: null,
    }
    insertVip(db, created)
    setPoolStatus(db, pool.id, 'PENDING_UPDATE')
    return created
  })
  await applyPool(ctx, vip.pool_id, {vipId: vip.id, pool: true})
  return stillThere(ctx, vip.id)
}

export function listAllVips(ctx: AppContext): Vip[] {
  return listVips(ctx.store.db)
}

export function showVip(ctx: AppContext, ref: string): Vip {
  return resolveVip(ctx.store.db, ref)
}

export interface VipUpdate {
  name?: unknown
  description?: unknown
  connection_limit?: unknown
  /** Absent keeps the persistence (Neutron v1 wiped it); `none` or null clears it. */
  session_persistence?: unknown
  admin_state_up?: unknown
  pool?: string
  /** TERMINATED_HTTPS only; `sni_certs` replaces the list ([] clears it). */
  default_cert?: string
  sni_certs?: readonly string[]
  redirect_http?: unknown
  /** Absent keeps it; `none` or null clears it. */
  syslog?: unknown
}

export async function updateVip(ctx: AppContext, ref: string, update: VipUpdate): Promise<Vip> {
  const changes: VipChanges = {
    name: update.name === undefined ? undefined : displayName(update.name),
    description: update.description === undefined ? undefined : freeText('description', update.description),
    connection_limit:
      update.connection_limit === undefined ? undefined : connectionLimit(update.connection_limit, ctx.safeConnectionLimit()),
    session_persistence:
      update.session_persistence === undefined ? undefined : (sessionPersistence(update.session_persistence) as SessionPersistence | null),
    admin_state_up: update.admin_state_up === undefined ? undefined : bool('admin_state_up', update.admin_state_up),
    syslog: update.syslog === undefined ? undefined : syslogAddress(update.syslog),
  }
  const redirect = update.redirect_http === undefined ? undefined : bool('redirect_http', update.redirect_http)
  const tlsGiven = update.default_cert !== undefined || update.sni_certs !== undefined || redirect !== undefined
  // null (`--syslog none`) is a change too.
  if (Object.values(changes).every((value) => value === undefined) && update.pool === undefined && !tlsGiven) {
    throw new ValidationError(
      'update',
      'nothing to update: give at least one of --name, --description, --connection-limit, --session-persistence, --admin-state-up, --pool, --default-cert, --sni-cert, --redirect-http, --syslog',
    )
  }
  const {db} = ctx.store
  const plan = ctx.store.write(() => {
    const vip = resolveVip(db, ref)
    // Updating it would bring it back from a delete that has begun (and overwrite its status).
    if (vip.status === 'PENDING_DELETE') throw new NotFoundError('vip', ref, 'another command is deleting it')
    const from = resolvePool(db, vip.pool_id)
    const to = update.pool === undefined ? from : resolvePool(db, update.pool)
    if (to.id !== from.id) {
      requireNoVip(to)
      requireSameProtocol(vip.protocol, to)
    }
    const tls = tlsGiven
      ? tlsFields(db, vip.protocol, vip.protocol_port, {
          default_cert: update.default_cert ?? (vip.default_cert ?? undefined),
          sni_certs: update.sni_certs ?? vip.sni_certs,
          redirect_http: redirect ?? vip.redirect_http,
        })
      : {}
    updateVipRow(db, vip.id, {...changes, ...tls, pool_id: to.id === from.id ? undefined : to.id})
    setVipStatus(db, vip.id, 'PENDING_UPDATE')
    return {vip, from, to}
  })
  if (plan.to.id !== plan.from.id) {
    // The old pool loses its VIP first, so the address is free when the new pool plugs it.
    await applyPool(ctx, plan.from.id, {pool: true})
    await applyPool(ctx, plan.to.id, {vipId: plan.vip.id, pool: true})
  } else {
    await applyPool(ctx, plan.to.id, {vipId: plan.vip.id})
  }
  return stillThere(ctx, plan.vip.id)
}

export async function deleteVip(ctx: AppContext, ref: string): Promise<Vip> {
  const {db} = ctx.store
  const vip = ctx.store.write(() => {
    const found = resolveVip(db, ref)
    setVipStatus(db, found.id, 'PENDING_DELETE')
    return found
  })
  crashPoint('vip-delete-after-pending')
  await applyPool(ctx, vip.pool_id, {vipId: vip.id, pool: true})
  return vip
}

/** The VIP after a command's deploy; a concurrent `vip delete` may have removed it meanwhile. */
function stillThere(ctx: AppContext, id: string): Vip {
  const vip = getVip(ctx.store.db, id)
  if (!vip) throw new NotFoundError('vip', id, 'another command deleted it while this one ran')
  return vip
}
