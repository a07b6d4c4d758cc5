/**
 * Starts the counter keeper (src/service/counter-keeper.ts) for a worker about to be
 * replaced by a reload: it holds a CLI session on the worker's stats socket, so the worker,
 * once old, stays until the keeper has read its final counters (SPEC §1 "pool stats").
 * The keeper is detached and ends on its own (at the latest at the hard-stop deadline);
 * lbaas never signals it.
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import type {ShowStat} from '../haproxy/stats.js'

const KEEPER = fileURLToPath(new URL('../service/counter-keeper.js', import.meta.url))
const READY_TIMEOUT_MS = 5_000

export interface RetiringWorker {
  pid: number
  /** The worker's counters read through the keeper's session: the snapshot the reload folds. */
  snapshot: ShowStat
  /** Tells the keeper whether the reload replaced the worker (true) or it still serves (false). */
  release(replaced: boolean): void
}

export interface KeeperTarget {
  statsSocket: string
  statePath: string
  poolId: string
  backend: string
  /** How long the keeper may hold the old worker: a little under hard-stop-after. */
  deadlineMs: number
}

/** Starts the keeper and waits for its snapshot; undefined when it could not (the caller reads the counters itself). */
export function holdRetiringWorker(target: KeeperTarget): Promise<RetiringWorker | undefined> {
  const child = spawn(
    process.execPath,
    [KEEPER, target.statsSocket, target.statePath, target.poolId, target.backend, String(target.deadlineMs)],
    {detached: true, stdio: ['pipe', 'pipe', 'ignore']},
  )
  return new Promise((resolve) => {
    let text = ''
    let settled = false
    const finish = (worker: RetiringWorker | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.stdout.removeAllListeners('data')
      if (!worker) child.stdin.end('abort\n')
      resolve(worker)
    }
    const timer = setTimeout(() => finish(undefined), READY_TIMEOUT_MS)
    child.once('error', () => finish(undefined))
    child.once('exit', () => finish(undefined))
    child.stdin.on('error', () => undefined)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      text += chunk
      const newline = text.indexOf('\n')
      if (newline < 0) return
      try {
        const line = JSON.parse(text.slice(0, newline)) as {pid: number; stat: ShowStat}
        finish({
          pid: line.pid,
          snapshot: line.stat,
          release(replaced) {
            child.stdin.end(replaced ? 'go\n' : 'abort\n')
            child.stdout.destroy()
            child.unref()
          },
        })
      } catch {
        finish(undefined)
      }
    })
  })
}

