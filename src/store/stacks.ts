/**
 * Stack labels (SPEC §8): which apply file owns a subnet, pool, monitor or VIP. NULL means
 * made by hand. Members and monitor associations belong to their pool. Kept apart from
 * the resources' own fields, which are exactly those of SPEC §1.
 */
import type {Db} from './db.js'

export type LabelledTable = 'subnets' | 'pools' | 'monitors' | 'vips' | 'certificates'

const TABLES: readonly LabelledTable[] = ['subnets', 'pools', 'monitors', 'vips', 'certificates']

function table(name: LabelledTable): LabelledTable {
  // Table names never come from input; this keeps it so.
  if (!TABLES.includes(name)) throw new Error(`internal: ${name} has no stack label`)
  return name
}

export function stackLabels(db: Db, name: LabelledTable): Map<string, string | null> {
  const rows = db.prepare(`SELECT id, stack FROM ${table(name)}`).all() as {id: string; stack: string | null}[]
  return new Map(rows.map((row) => [row.id, row.stack]))
}

export function setStackLabel(db: Db, name: LabelledTable, id: string, stack: string | null): void {
  db.prepare(`UPDATE ${table(name)} SET stack = ? WHERE id = ?`).run(stack, id)
}
