import {closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {UsageError} from '../domain/errors.js'
import type {PoolCounterFigures} from '../service/metrics.js'

export const TEXTFILE_NAME = 'lbaas.prom'

const COUNTER_FIELDS: Record<string, keyof PoolCounterFigures> = {
  lbaas_pool_in_bytes_total: 'bytes_in',
  lbaas_pool_out_bytes_total: 'bytes_out',
  lbaas_pool_connections_total: 'total_connections',
}
const COUNTER_LINE = /^(lbaas_pool_\w+_total)\{[^\n]*?pool_id="([^"\\]+)"[^\n]*\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/

/**
 * The pool counters DIR/lbaas.prom exposes now (none when it is absent or unreadable), so
 * the next write never exposes a lower figure to node-exporter.
 */
export function exposedCounters(dir: string): Map<string, PoolCounterFigures> {
  let text = ''
  try {
    text = readFileSync(join(dir, TEXTFILE_NAME), 'utf8')
  } catch {
    return new Map()
  }
  const exposed = new Map<string, PoolCounterFigures>()
  for (const line of text.split('\n')) {
    const match = COUNTER_LINE.exec(line)
    const field = match && COUNTER_FIELDS[match[1]]
    if (!match || !field) continue
    const figures = exposed.get(match[2]) ?? {bytes_in: 0, bytes_out: 0, total_connections: 0}
    figures[field] = Number(match[3])
    exposed.set(match[2], figures)
  }
  return exposed
}

/**
 * Writes `text` as DIR/lbaas.prom so that node-exporter's textfile collector never reads a
 * half-written file: a temporary name it ignores (not ending in .prom), fsync, rename.
 * Returns the path written.
 */
export function writeTextfile(dir: string, text: string): string {
  let isDirectory = false
  try {
    isDirectory = statSync(dir).isDirectory()
  } catch {}
  if (!isDirectory) throw new UsageError(`--textfile ${JSON.stringify(dir)} is not an existing directory`)
  const target = join(dir, TEXTFILE_NAME)
  const temporary = join(dir, `.${TEXTFILE_NAME}.${process.pid}.tmp`)
  // Readable by node-exporter, which usually runs as another user.
  const fd = openSync(temporary, 'w', 0o644)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    renameSync(temporary, target)
  } catch (error) {
    unlinkSync(temporary)
    throw error
  }
  return target
}
