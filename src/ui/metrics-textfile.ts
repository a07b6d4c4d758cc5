import {closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {UsageError} from '../domain/errors.js'

export const TEXTFILE_NAME = 'lbaas.prom'

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
