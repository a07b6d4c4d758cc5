/** Removing files of a run-dir entry by name (sync's stray files). */
import {rmSync} from 'node:fs'

import {RuntimeFailure} from '../domain/errors.js'
import type {PoolPaths} from './names.js'

/** Removes `names` (plain file names, never paths) from the entry's directory. Idempotent. */
export function rmRunFiles(paths: Pick<PoolPaths, 'dir'>, names: readonly string[]): void {
  for (const name of names) {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new RuntimeFailure('internal_error', `internal error: refusing to remove ${JSON.stringify(name)}`)
    rmSync(`${paths.dir}/${name}`, {force: true})
  }
}
