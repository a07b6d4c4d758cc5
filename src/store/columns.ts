/**
 * Builds `SET a = @a, b = @b` for an UPDATE from the defined keys of `changes`, keeping
 * only columns in `allowed` (column names never come from input). Booleans become 0/1.
 */
export function assignments(
  changes: Record<string, unknown>,
  allowed: readonly string[],
): {sql: string; values: Record<string, unknown>} {
  const parts: string[] = []
  const values: Record<string, unknown> = {}
  for (const [column, value] of Object.entries(changes)) {
    if (value === undefined) continue
    if (!allowed.includes(column)) throw new Error(`internal: column ${column} may not be updated`)
    parts.push(`${column} = @${column}`)
    values[column] = typeof value === 'boolean' ? (value ? 1 : 0) : value
  }
  return {sql: parts.join(', '), values}
}
