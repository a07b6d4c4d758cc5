import {randomUUID} from 'node:crypto'

import {ConflictError, NotFoundError, ValidationError} from '../domain/errors.js'
import type {Member} from '../domain/types.js'
import {bool, ipAddress, protocolPort, weight} from '../domain/validation.js'
import {
  deleteMemberRow,
  findMemberByEndpoint,
  getMember,
  insertMember,
  listMembers,
  setMemberStatus,
  updateMemberRow,
  type MemberChanges,
} from '../store/members.js'
import {listVips} from '../store/vips.js'
import {applyPool, refreshPoolHealth, refreshPoolsHealth} from './apply.js'
import type {AppContext} from './context.js'
import {resolveMember, resolvePool} from './resolve.js'

export interface MemberInput {
  address: unknown
  protocol_port: unknown
  weight?: unknown
  admin_state_up?: unknown
}

function duplicate(address: string, port: number, poolName: string): ConflictError {
  return new ConflictError(
    'duplicate_member',
    `pool ${poolName} already has a member at ${address} port ${port}`,
    'try `lbaas member list --pool ' + poolName + '`',
  )
}

export async function createMember(ctx: AppContext, poolRef: string, input: MemberInput): Promise<Member> {
  const address = ipAddress('address', input.address).address
  const port = protocolPort(input.protocol_port)
  const memberWeight = input.weight === undefined ? 1 : weight(input.weight)
  const adminUp = input.admin_state_up === undefined ? true : bool('admin_state_up', input.admin_state_up)
  const {db} = ctx.store
  const {member, deployed} = ctx.store.write(() => {
    const pool = resolvePool(db, poolRef)
    if (findMemberByEndpoint(db, pool.id, address, port)) throw duplicate(address, port, pool.name)
    const created: Member = {
      id: randomUUID(),
      pool_id: pool.id,
      address,
      protocol_port: port,
      weight: memberWeight,
      admin_state_up: adminUp,
      status: pool.vip_id ? 'PENDING_CREATE' : 'ACTIVE',
      status_description: null,
      operating_status: 'OFFLINE',
    }
    insertMember(db, created)
    return {member: created, deployed: pool.vip_id !== null}
  })
  if (deployed) await applyPool(ctx, member.pool_id, {memberIds: [member.id]})
  return stillThere(ctx, member.id)
}

/** The member after a command's deploy; a concurrent `member delete` may have removed it meanwhile. */
function stillThere(ctx: AppContext, id: string): Member {
  const member = getMember(ctx.store.db, id)
  if (!member) throw new NotFoundError('member', id, 'another command deleted it while this one ran')
  return member
}

/** Members of one pool or of all pools, with health read live from HAProxy where deployed. */
export async function listAllMembers(ctx: AppContext, poolRef?: string): Promise<Member[]> {
  const {db} = ctx.store
  const poolIds = poolRef
    ? [resolvePool(db, poolRef).id]
    : listVips(db).map((vip) => vip.pool_id)
  await refreshPoolsHealth(ctx, poolIds, poolRef !== undefined)
  return listMembers(db, poolRef ? poolIds[0] : undefined)
}

export async function showMember(ctx: AppContext, ref: string): Promise<Member> {
  const member = resolveMember(ctx.store.db, ref)
  await refreshPoolHealth(ctx, member.pool_id)
  return getMember(ctx.store.db, member.id) ?? member
}

export interface MemberUpdate {
  weight?: unknown
  admin_state_up?: unknown
  pool?: string
}

/**
 * Weight and admin state go through HAProxy's runtime API (no reload, SPEC §4.2);
 * a new pool moves the member: both pools are redeployed.
 */
export async function updateMember(ctx: AppContext, ref: string, update: MemberUpdate): Promise<Member> {
  const changes: MemberChanges = {
    weight: update.weight === undefined ? undefined : weight(update.weight),
    admin_state_up: update.admin_state_up === undefined ? undefined : bool('admin_state_up', update.admin_state_up),
  }
  if (changes.weight === undefined && changes.admin_state_up === undefined && update.pool === undefined) {
    throw new ValidationError('update', 'nothing to update: give at least one of --weight, --admin-state-up, --pool')
  }
  const {db} = ctx.store
  const plan = ctx.store.write(() => {
    const member = resolveMember(db, ref)
    // Updating it would bring it back from a delete that has begun (and overwrite its status).
    if (member.status === 'PENDING_DELETE') throw new NotFoundError('member', ref, 'another command is deleting it')
    const from = resolvePool(db, member.pool_id)
    const to = update.pool === undefined ? from : resolvePool(db, update.pool)
    if (to.id !== from.id && findMemberByEndpoint(db, to.id, member.address, member.protocol_port)) {
      throw duplicate(member.address, member.protocol_port, to.name)
    }
    updateMemberRow(db, member.id, {...changes, pool_id: to.id === from.id ? undefined : to.id})
    if (to.vip_id) setMemberStatus(db, member.id, 'PENDING_UPDATE')
    return {member, from, to}
  })
  if (plan.to.id !== plan.from.id) {
    if (plan.from.vip_id) await applyPool(ctx, plan.from.id, {})
    if (plan.to.vip_id) await applyPool(ctx, plan.to.id, {memberIds: [plan.member.id]})
  } else if (plan.to.vip_id) {
    await applyPool(ctx, plan.to.id, {memberIds: [plan.member.id]}, {runtimeMemberIds: [plan.member.id]})
  }
  if (!plan.to.vip_id) ctx.store.write(() => setMemberStatus(db, plan.member.id, 'ACTIVE'))
  return stillThere(ctx, plan.member.id)
}

export async function deleteMember(ctx: AppContext, ref: string): Promise<Member> {
  const {db} = ctx.store
  const {member, deployed} = ctx.store.write(() => {
    const found = resolveMember(db, ref)
    const pool = resolvePool(db, found.pool_id)
    if (pool.vip_id) setMemberStatus(db, found.id, 'PENDING_DELETE')
    else deleteMemberRow(db, found.id)
    return {member: found, deployed: pool.vip_id !== null}
  })
  if (deployed) await applyPool(ctx, member.pool_id, {memberIds: [member.id]})
  return member
}
