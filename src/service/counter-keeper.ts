/**
 * The counter keeper (SPEC §1 "pool stats", docs/counters.md): a short-lived detached
 * process started by host/counter-keeper.ts for a worker a reload replaces. HAProxy adds a
 * stream's bytes to its counters when the stream ends, and an old worker exits as soon as
 * its last connection closes, so what it serves after the reload would be lost with it. An
 * open CLI session keeps it alive, so the keeper, given that session as fd 3:
 *   1. reads the snapshot (the worker's `show stat` the reload folded into the totals) from
 *      the first line of stdin, then waits for "go" (the reload replaced the worker);
 *      "abort", EOF (the command died) or the deadline: it quits the session and exits;
 *   2. polls the worker through the session until none of its frontends has a connection
 *      (or the deadline), reads its final counters, quits the session (the worker exits);
 *   3. adds final − snapshot of the pool's backend to the pool's totals in the state file,
 *      in one write transaction.
 * It never signals anything.
 *
 * argv: STATE_FILE POOL_ID BACKEND DEADLINE_MS
 */
import {setTimeout as sleep} from 'node:timers/promises'
import net from 'node:net'

import {CliSession} from '../haproxy/cli-session.js'
import {parseShowStat, type ShowStat} from '../haproxy/stats.js'
import type {RawCounters} from '../store/stats.js'

const POLL_MS = 200

function backendCounters(stat: ShowStat, backend: string): RawCounters {
  const found = stat.backends.find((candidate) => candidate.name === backend)
  return {bytes_in: found?.bytes_in ?? 0, bytes_out: found?.bytes_out ?? 0, total_connections: found?.total_connections ?? 0, active_connections: 0}
}

/** stdin's lines once it ends, or what came before the deadline. */
function readInstructions(deadline: number): Promise<string[]> {
  return new Promise((resolve) => {
    let text = ''
    const done = () => resolve(text.split('\n'))
    const timer = setTimeout(done, Math.max(0, deadline - Date.now()))
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (chunk: string) => (text += chunk))
    process.stdin.on('end', () => (clearTimeout(timer), done()))
    process.stdin.on('error', () => (clearTimeout(timer), done()))
  })
}

async function main(): Promise<void> {
  const [statePath, poolId, backend, deadlineText] = process.argv.slice(2)
  const deadline = Date.now() + Number(deadlineText)
  const session = CliSession.adopt(new net.Socket({fd: 3, readable: true, writable: true}))
  const [snapshotLine, instruction] = await readInstructions(deadline)
  if (instruction?.trim() !== 'go' || !snapshotLine) {
    session.quit()
    return
  }
  const snapshot = JSON.parse(snapshotLine) as ShowStat
  let last = snapshot
  while (Date.now() < deadline) {
    last = parseShowStat(await session.command('show stat'))
    if (last.frontends.every((frontend) => frontend.active_connections === 0)) break
    await sleep(POLL_MS)
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
  const [{openStore}, {addToCounterBase}] = await Promise.all([import('../store/db.js'), import('../store/stats.js')])
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
