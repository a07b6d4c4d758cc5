/**
 * A pool HAProxy's in-memory access log (the `ring` of haproxy/view.ts), read through its
 * stats socket with `show events` (SPEC §10). The ring lives in the worker process: a reload
 * starts a new, empty one, and a follower's connection ends with the old worker.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {sendCommand, showInfo, streamCommand} from '../haproxy/runtime.js'
import {LOG_RING_NAME} from '../haproxy/view.js'
import {runningMaster} from './haproxy-process.js'
import {poolPaths} from './names.js'

/** Every line the ring holds, oldest first; null when the pool's HAProxy is not running. */
export async function readLogRing(runDir: string, poolId: string): Promise<string[] | null> {
  const paths = poolPaths(runDir, poolId)
  if (runningMaster(paths) === undefined) return null
  const text = await sendCommand(paths.statsSocket, `show events ${LOG_RING_NAME}`, {timeoutMs: 5_000})
  return text.split('\n').filter((line) => line.length > 0)
}

/** How often a follower checks whether a reload replaced the worker it listens to. */
const WORKER_CHECK_MS = 500

/**
 * Hands each new line to `onLine` until `signal` aborts, following the pool across reloads
 * and restarts. A soft-stopping worker keeps our connection open (until hard-stop-after),
 * so the follower asks the stats socket which worker answers now and moves to it when it
 * changed; lines logged while it moves can be missed. Waits while HAProxy is not running.
 */
export async function followLogRing(runDir: string, poolId: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  const paths = poolPaths(runDir, poolId)
  const currentWorker = async () => (await showInfo(paths.statsSocket, {timeoutMs: 2_000}).catch(() => undefined))?.pid
  while (!signal.aborted) {
    const started = Date.now()
    const worker = runningMaster(paths) === undefined ? undefined : await currentWorker()
    if (worker !== undefined) {
      const connection = new AbortController()
      const stop = () => connection.abort()
      signal.addEventListener('abort', stop, {once: true})
      const watch = setInterval(() => {
        void currentWorker().then((now) => now !== undefined && now !== worker && connection.abort())
      }, WORKER_CHECK_MS)
      try {
        await streamCommand(paths.statsSocket, `show events ${LOG_RING_NAME} -w -n`, (line) => line.length > 0 && onLine(line), connection.signal)
      } catch {
        // The socket is being replaced (reload) or gone: try again below.
      } finally {
        clearInterval(watch)
        signal.removeEventListener('abort', stop)
      }
    }
    // Never spin: at most a few reconnects a second.
    const pause = Math.max(0, 250 - (Date.now() - started))
    if (pause > 0 && !signal.aborted) await sleep(pause)
  }
}
