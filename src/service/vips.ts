import {randomUUID} from 'node:crypto'

import {ConflictError, NotFoundError, ValidationError} from '../domain/errors.js'
import {firstFreeHost, isUsableHost} from '../domain/ip.js'
import type {Pool, SessionPersistence, Subnet, Vip} from '../domain/types.js'
import {
  bool,
  connectionLimit,
  displayName,
  freeText,
  ipAddress,
  protocol,
  protocolPort,
  sessionPersistence,
} from '../domain/validation.js'
import type {Db} from '../store/db.js'
import {setPoolStatus} from '../store/pools.js'
import {addressesInUse, getVip, insertVip, listVips, setVipStatus, updateVipRow, vipAddressTaken, type VipChanges} from '../store/vips.js'
import {crashPoint} from '../util/crash-point.js'
import {subnetNetwork} from './subnets.js'
import {applyPool} from './apply.js'
import type {AppContext} from './context.js'
import {resolvePool, resolveSubnet, resolveVip} from './resolve.js'

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
}

function requireSameProtocol(vipProtocol: string, pool: Pool): void {
  if (vipProtocol !== pool.protocol) {
    throw new ValidationError('protocol', `VIP protocol ${vipProtocol} does not match pool ${pool.name}'s protocol ${pool.protocol}`)
  }
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
    protocol: protocol(input.protocol),
    protocol_port: protocolPort(input.protocol_port),
    connection_limit:
      input.connection_limit === undefined ? -1 : connectionLimit(input.connection_limit, ctx.safeConnectionLimit()),
    session_persistence:
      input.session_persistence === undefined ? null : sessionPersistence(input.session_persistence),
    admin_state_up: input.admin_state_up === undefined ? true : bool('admin_state_up', input.admin_state_up),
  }
  const {db} = ctx.store
  const vip = ctx.store.write(() => {
    const pool = resolvePool(db, poolRef)
    requireNoVip(pool)
    requireSameProtocol(fields.protocol, pool)
    const subnet = resolveSubnet(db, input.subnet)
    const created: Vip = {
      id: randomUUID(),
      ...fields,
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
  }
  if (Object.values(changes).every((value) => value === undefined) && update.pool === undefined) {
    throw new ValidationError(
      'update',
      'nothing to update: give at least one of --name, --description, --connection-limit, --session-persistence, --admin-state-up, --pool',
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
    updateVipRow(db, vip.id, {...changes, pool_id: to.id === from.id ? undefined : to.id})
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
