import type {Db} from './db.js'

export interface LabBackendRow {
  name: string
  subnet_id: string
  position: number
  address: string
  port: number
  tls: boolean
}

interface Row extends Omit<LabBackendRow, 'tls'> {
  tls: number
}

const toBackend = (row: Row): LabBackendRow => ({...row, tls: row.tls === 1})

export function insertLabBackend(db: Db, backend: LabBackendRow): void {
  db.prepare(
    'INSERT INTO lab_backends (name, subnet_id, position, address, port, tls) VALUES (@name, @subnet_id, @position, @address, @port, @tls)',
  ).run({...backend, tls: backend.tls ? 1 : 0})
}

export function listLabBackends(db: Db, subnetId?: string): LabBackendRow[] {
  const rows = subnetId
    ? db.prepare('SELECT * FROM lab_backends WHERE subnet_id = ? ORDER BY position').all(subnetId)
    : db.prepare('SELECT * FROM lab_backends ORDER BY subnet_id, position').all()
  return (rows as Row[]).map(toBackend)
}

export function getLabBackend(db: Db, name: string): LabBackendRow | undefined {
  const row = db.prepare('SELECT * FROM lab_backends WHERE name = ?').get(name) as Row | undefined
  return row && toBackend(row)
}

export function deleteLabBackends(db: Db, subnetId: string): void {
  db.prepare('DELETE FROM lab_backends WHERE subnet_id = ?').run(subnetId)
}
