import type {Member, MemberOperatingStatus, ProvisioningStatus} from '../domain/types.js'
import {assignments} from './columns.js'
import type {Db} from './db.js'

interface MemberRow extends Omit<Member, 'admin_state_up'> {
  admin_state_up: number
}

const COLUMNS = 'id, pool_id, address, protocol_port, weight, admin_state_up, status, status_description, operating_status'

const toMember = (row: MemberRow): Member => ({...row, admin_state_up: row.admin_state_up === 1})

export function insertMember(db: Db, member: Member): void {
  db.prepare(
    `INSERT INTO members (${COLUMNS})
     VALUES (@id, @pool_id, @address, @protocol_port, @weight, @admin_state_up, @status, @status_description, @operating_status)`,
  ).run({...member, admin_state_up: member.admin_state_up ? 1 : 0})
}

export function getMember(db: Db, id: string): Member | undefined {
  const row = db.prepare(`SELECT ${COLUMNS} FROM members WHERE id = ?`).get(id) as MemberRow | undefined
  return row && toMember(row)
}

export function listMembers(db: Db, poolId?: string): Member[] {
  const rows = poolId
    ? db.prepare(`SELECT ${COLUMNS} FROM members WHERE pool_id = ? ORDER BY rowid`).all(poolId)
    : db.prepare(`SELECT ${COLUMNS} FROM members ORDER BY rowid`).all()
  return (rows as MemberRow[]).map(toMember)
}

export function findMemberByEndpoint(db: Db, poolId: string, address: string, port: number): Member | undefined {
  const row = db
    .prepare(`SELECT ${COLUMNS} FROM members WHERE pool_id = ? AND address = ? AND protocol_port = ?`)
    .get(poolId, address, port) as MemberRow | undefined
  return row && toMember(row)
}

export type MemberChanges = Partial<Pick<Member, 'pool_id' | 'weight' | 'admin_state_up'>>

export function updateMemberRow(db: Db, id: string, changes: MemberChanges): void {
  const {sql, values} = assignments(changes, ['pool_id', 'weight', 'admin_state_up'])
  if (sql) db.prepare(`UPDATE members SET ${sql} WHERE id = @id`).run({...values, id})
}

export function setMemberStatus(db: Db, id: string, status: ProvisioningStatus, description: string | null = null): void {
  db.prepare('UPDATE members SET status = ?, status_description = ? WHERE id = ?').run(status, description, id)
}

export function setMemberHealth(
  db: Db,
  id: string,
  health: {status: ProvisioningStatus; operating_status: MemberOperatingStatus; health: string; failed_checks: number},
): void {
  db.prepare(
    'UPDATE members SET status = @status, operating_status = @operating_status, health = @health, failed_checks = @failed_checks WHERE id = @id',
  ).run({...health, id})
}

export function memberHealthDetails(db: Db, poolId: string): {id: string; health: string; failed_checks: number}[] {
  return db
    .prepare('SELECT id, health, failed_checks FROM members WHERE pool_id = ? ORDER BY rowid')
    .all(poolId) as {id: string; health: string; failed_checks: number}[]
}

export function deleteMemberRow(db: Db, id: string): void {
  db.prepare('DELETE FROM members WHERE id = ?').run(id)
}
