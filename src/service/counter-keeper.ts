/**
 * The counter keeper (SPEC §1 "pool stats"): a short-lived detached process that makes the
 * counters of a pool's HAProxy worker replaced by a reload count in full.
 *
 * HAProxy adds a stream's bytes to its counters when the stream ends, and an old worker
 * exits as soon as its last connection closes, so what it serves after a reload would be
 * lost with it. An established CLI session on its stats socket keeps it alive (a session
 * is a job HAProxy waits for), so the keeper:
 *   1. opens a session on the stats socket before the reload and prints the worker's PID
 *      and counters (the snapshot the reload folds into the totals) as one JSON line;
 *   2. waits for "go" on stdin (the reload replaced that worker); anything else, or EOF,
 *      means the worker was not replaced: it quits the session and exits;
 *   3. polls the worker through the session until none of its frontends has a connection
 *      (or the hard-stop deadline is near), reads its final counters, quits the session
 *      (the worker then exits), and adds final − snapshot to the pool's totals in the state
 *      file, in one write transaction.
 * Never signals anything; bounded by the deadline given (hard-stop-after).
 *
 * argv: STATS_SOCKET STATE_FILE POOL_ID BACKEND DEADLINE_MS
 */
import net from 'node:net'

import {parseShowInfo, parseShowStat, type ShowStat} from '../haproxy/stats.js'
import {openStore} from '../store/db.js'
import {addToCounterBase, type RawCounters} from '../store/stats.js'

const POLL_MS = 200

class Session {
  private buffer = ''
  private waiter: (() => void) | undefined
  private closed = false

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      this.waiter?.()
    })
    socket.on('close', () => {
      this.closed = true
      this.waiter?.()
    })
    socket.on('error', () => undefined)
  }

  static async open(path: string): Promise<Session> {
    const socket = net.connect(path)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const session = new Session(socket)
    await session.command('prompt')
    return session
  }

  /** Sends one command in prompt mode and returns its answer (up to the next prompt). */
  async command(text: string): Promise<string> {
    this.buffer = ''
    this.socket.write(`${text}\n`)
    for (;;) {
      const end = this.buffer.lastIndexOf('\n> ')
      if (this.buffer === '> ' || (end >= 0 && end === this.buffer.length - 3)) return this.buffer.slice(0, Math.max(0, end))
      if (this.closed) throw new Error(`the stats session closed during "${text}"`)
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
  }

  quit(): void {
    if (!this.closed) this.socket.end('quit\n')
  }
}

function backendCounters(stat: ShowStat, backend: string): RawCounters {
  const found = stat.backends.find((candidate) => candidate.name === backend)
  return {
    bytes_in: found?.bytes_in ?? 0,
    bytes_out: found?.bytes_out ?? 0,
    total_connections: found?.total_connections ?? 0,
    active_connections: 0,
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (chunk: string) => (text += chunk))
    process.stdin.on('end', () => resolve(text))
    process.stdin.on('error', () => resolve(text))
  })
}

async function main(): Promise<void> {
  const [statsSocket, statePath, poolId, backend, deadlineText] = process.argv.slice(2)
  const deadline = Date.now() + Number(deadlineText)
  const session = await Session.open(statsSocket!)
  const pid = parseShowInfo(await session.command('show info')).pid
  const snapshot = parseShowStat(await session.command('show stat'))
  process.stdout.write(`${JSON.stringify({pid, stat: snapshot})}\n`)
  if ((await readStdin()).trim() !== 'go') {
    session.quit()
    return
  }
  let last = snapshot
  while (Date.now() < deadline) {
    last = parseShowStat(await session.command('show stat'))
    if (last.frontends.every((frontend) => frontend.active_connections === 0)) break
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  session.quit()
  const before = backendCounters(snapshot, backend!)
  const after = backendCounters(last, backend!)
  const delta: RawCounters = {
    bytes_in: Math.max(0, after.bytes_in - before.bytes_in),
    bytes_out: Math.max(0, after.bytes_out - before.bytes_out),
    total_connections: Math.max(0, after.total_connections - before.total_connections),
    active_connections: 0,
  }
  if (delta.bytes_in + delta.bytes_out + delta.total_connections === 0) return
  const store = openStore(statePath!)
  try {
    store.write(() => addToCounterBase(store.db, poolId!, delta))
  } finally {
    store.close()
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`counter keeper: ${error.message}\n`)
    process.exit(1)
  },
)
