/**
 * When each stored TLS certificate expires, for `lbaas metrics` (SPEC §10).
 *
 * Certificates (SPEC §9) arrive in their own migration, written in parallel with this
 * file: until a `certificates` table with `id`, `name` and `not_after` exists this reads
 * nothing, and once it does the metric appears without a change here. `not_after` may be
 * ISO-8601 text or epoch seconds/milliseconds.
 */
import type {Db} from './db.js'

export interface CertificateExpiry {
  id: string
  name: string
  /** Epoch milliseconds of not_after. */
  not_after_ms: number
}

const REQUIRED_COLUMNS = ['id', 'name', 'not_after']

export function certificateExpiries(db: Db): CertificateExpiry[] {
  const columns = (db.prepare("SELECT name FROM pragma_table_info('certificates')").all() as {name: string}[]).map((row) => row.name)
  if (!REQUIRED_COLUMNS.every((column) => columns.includes(column))) return []
  const rows = db.prepare('SELECT id, name, not_after FROM certificates ORDER BY name').all() as {id: string; name: string; not_after: unknown}[]
  return rows.flatMap((row) => {
    const when = epochMs(row.not_after)
    return when === undefined ? [] : [{id: row.id, name: row.name, not_after_ms: when}]
  })
}

function epochMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value
  if (typeof value === 'string') {
    const parsed = Date.parse(value)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}
