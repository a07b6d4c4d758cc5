import {mkdirSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'

/**
 * `mkdir -p` with mode 0700 for the directories it creates. Node 20's recursive mkdirSync
 * spins forever when the kernel answers ENOENT for a path whose parent exists (procfs,
 * e.g. `--state /proc/x/state.db`); this walks the components itself and fails instead.
 */
export function makePrivateDirs(path: string): void {
  const target = resolve(path)
  const missing: string[] = []
  for (let current = target; ; current = dirname(current)) {
    try {
      if (!statSync(current).isDirectory()) {
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), {code: 'ENOTDIR'})
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) throw error
      missing.unshift(current)
    }
  }
  for (const directory of missing) {
    try {
      mkdirSync(directory, {mode: 0o700})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}
