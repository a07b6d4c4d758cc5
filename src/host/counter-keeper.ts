/**
 * Holds the worker a reload is about to replace for the counter keeper
 * (src/service/counter-keeper.ts; SPEC §1 "pool stats", docs/counters.md): opens a CLI
 * session on its stats socket, reads its PID and counters (the snapshot), and hands the
 * open session to the keeper, a detached process that waits for the worker to drain, reads
 * its final counters and lets it go. Starting the keeper is not waited for. lbaas never
 * signals the keeper; it ends by itself at the latest at the deadline.
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {CliSession} from '../haproxy/cli-session.js'
import {parseShowInfo, parseShowStat, type ShowStat} from '../haproxy/stats.js'

const KEEPER = fileURLToPath(new URL('../service/counter-keeper.js', import.meta.url))

export interface RetiringWorker {
  pid: number
  /** The worker's counters read through the held session: the snapshot the reload folds. */
  snapshot: ShowStat
  /** Tells the keeper whether the reload replaced the worker (true) or it still serves (false). Idempotent. */
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

/** Undefined when the worker's stats socket does not answer (the caller reads the counters itself, or not at all). */
export async function holdRetiringWorker(target: KeeperTarget): Promise<RetiringWorker | undefined> {
  let session: CliSession
  let pid: number
  let snapshot: ShowStat
  try {
    session = await CliSession.open(target.statsSocket)
    pid = parseShowInfo(await session.command('show info')).pid
    snapshot = parseShowStat(await session.command('show stat'))
  } catch {
    return undefined
  }
  const child = spawn(process.execPath, [KEEPER, target.statePath, target.poolId, target.backend, String(target.deadlineMs)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore', session.socket],
  })
  const stdin = child.stdin!
  child.on('error', () => undefined)
  stdin.on('error', () => undefined)
  stdin.write(`${JSON.stringify(snapshot)}\n`)
  // The keeper has its own copy of the connection; closing ours does not end the session.
  session.socket.destroy()
  let released = false
  return {
    pid,
    snapshot,
    release(replaced) {
      if (released) return
      released = true
      stdin.end(replaced ? 'go\n' : 'abort\n')
      child.unref()
    },
  }
}
