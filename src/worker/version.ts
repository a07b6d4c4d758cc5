/**
 * The version an agent reports (Libra DISCOVER `version`/`release`, native DISCOVER): the
 * `version` of lbaas's package.json, found by walking up from this file (it sits at a
 * different depth in src/ and in dist/).
 */
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

let cached: string | undefined

export function lbaasVersion(): string {
  if (cached) return cached
  let directory = dirname(fileURLToPath(import.meta.url))
  for (let depth = 0; depth < 6; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {name?: string; version?: string}
      if (manifest.name === 'lbaas' && manifest.version) return (cached = manifest.version)
    } catch {
      // not here; look one level up
    }
    directory = dirname(directory)
  }
  return (cached = '0.0.0')
}
