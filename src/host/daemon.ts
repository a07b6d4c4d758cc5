/**
 * Programs a demo starts for itself and stops again (`lbaas demo --ha`: a private gearmand,
 * two `lbaas serve-worker` agents). Each is a child of this process, known by PID and start
 * time from the moment it is spawned, and stopped by that identity only (SPEC §4.7).
 */
import {spawn} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import net from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

import {RuntimeFailure} from '../domain/errors.js'
import {isAlive, readProcessStat, terminate} from './proc.js'

export interface Daemon {
  readonly argv: readonly string[]
  readonly pid: number
  readonly startTime: number
  running(): boolean
  /** SIGTERM, then SIGKILL after `graceMs`; nothing when it already exited. */
  stop(graceMs?: number): Promise<void>
}

/** Starts `argv` (no shell) with its output appended to `logFile`. */
export function startDaemon(argv: readonly string[], options: {logFile: string; env?: NodeJS.ProcessEnv}): Daemon {
  const log = openSync(options.logFile, 'a', 0o600)
  let child
  try {
    child = spawn(argv[0]!, argv.slice(1), {stdio: ['ignore', log, log], env: options.env ?? process.env})
  } finally {
    closeSync(log)
  }
  // A missing program is reported below (no PID); without a listener the error would end the process.
  child.once('error', () => undefined)
  const pid = child.pid
  const stat = pid === undefined ? undefined : readProcessStat(pid)
  if (pid === undefined || !stat) throw new RuntimeFailure('start_failed', `could not start ${argv[0]} (see ${options.logFile})`)
  // The exit is read from /proc; the handle only keeps Node from keeping a zombie around.
  child.once('exit', () => undefined)
  child.unref()
  return {
    argv,
    pid,
    startTime: stat.startTime,
    running: () => isAlive(pid, stat.startTime),
    stop: async (graceMs = 10_000) => void (await terminate(pid, {startTime: stat.startTime, graceMs})),
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` right now. */
export function acceptsOnLoopback(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Waits until `daemon` accepts connections on 127.0.0.1:`port`. */
export async function waitForListener(daemon: Daemon, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!daemon.running()) throw new RuntimeFailure('start_failed', `${daemon.argv[0]} exited right after it started`)
    if (await acceptsOnLoopback(port)) return
    await sleep(50)
  }
  throw new RuntimeFailure('start_failed', `${daemon.argv[0]} did not listen on 127.0.0.1:${port} within ${timeoutMs / 1000} s`)
}
