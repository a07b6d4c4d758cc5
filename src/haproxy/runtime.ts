/**
 * HAProxy's runtime API over UNIX sockets (node:net): the per-process stats socket
 * (`stats socket … level admin`) and the master CLI (`haproxy -W -S <socket>`).
 *
 * Contract:
 * - One connection per command; the answer is read to EOF, never cut at a short read.
 * - The stats socket closes after one command (non-interactive mode). The master socket
 *   waits for the client to half-close, so `sendMasterCommand` ends its side after the
 *   command; it also retries refused connections for a moment, because the socket
 *   disappears while the master re-executes itself on reload.
 * - Failures throw RuntimeFailure naming the socket and the command:
 *   `haproxy_socket` (cannot connect, timeout, connection error),
 *   `haproxy_command` (a command that would not be one line, refused before sending),
 *   `haproxy_runtime_refused` (HAProxy answered a `set` command with an error),
 *   and parse errors of stats.ts (`haproxy_output`).
 */
import {createConnection} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'
import {RuntimeFailure} from '../domain/errors.js'
import {parseShowInfo, parseShowProc, parseShowStat, type ShowInfo, type ShowProc, type ShowStat} from './stats.js'

export interface SocketOptions {
  /** Longest wait for the whole answer; default 5000 ms. */
  timeoutMs?: number
}

export interface MasterSocketOptions extends SocketOptions {
  /** How long to keep retrying a refused or missing master socket; default 2000 ms. */
  connectRetryMs?: number
}

const DEFAULT_TIMEOUT_MS = 5_000
const DEFAULT_CONNECT_RETRY_MS = 2_000
const CONNECT_RETRY_PAUSE_MS = 25

function socketFailure(socketPath: string, command: string, detail: string): RuntimeFailure {
  return new RuntimeFailure(
    'haproxy_socket',
    `HAProxy runtime API at ${socketPath} (command \`${command}\`): ${detail}`,
    'is HAProxy running for this pool? `lbaas sync` starts what is missing',
  )
}

function assertOneCommand(socketPath: string, command: string): void {
  // The CLI splits on `;` and ends a command at a newline: either would smuggle in a second command.
  if (command.length === 0 || /[\n\r;\0]/.test(command)) {
    throw new RuntimeFailure('haproxy_command', `refusing to send ${JSON.stringify(command)} to ${socketPath}: not a single command`)
  }
}

/** The connection could not be made (nothing was sent). */
class ConnectError extends Error {
  constructor(readonly errno: string | undefined) {
    super(errno)
  }
}

/** The peer reset the connection before answering anything (the master re-executing on reload). */
class ResetError extends Error {
  constructor(readonly errno: string | undefined) {
    super(errno)
  }
}

function exchange(socketPath: string, command: string, halfClose: boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let connected = false
    let settled = false
    const socket = createConnection({path: socketPath})
    const finish = (error?: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(Buffer.concat(chunks).toString('utf8'))
    }
    const timer = setTimeout(
      () => finish(socketFailure(socketPath, command, `no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.on('connect', () => {
      connected = true
      if (halfClose) socket.end(`${command}\n`)
      else socket.write(`${command}\n`)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('end', () => finish())
    socket.on('close', () => finish())
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) finish(new ConnectError(error.code))
      else if ((error.code === 'ECONNRESET' || error.code === 'EPIPE') && chunks.length === 0) finish(new ResetError(error.code))
      else finish(socketFailure(socketPath, command, error.message))
    })
  })
}

function connectFailure(socketPath: string, command: string, error: ConnectError): RuntimeFailure {
  const detail =
    error.errno === 'ENOENT'
      ? 'the socket does not exist'
      : error.errno === 'ECONNREFUSED'
        ? 'connection refused (nothing listens on the socket)'
        : `cannot connect (${error.errno ?? 'unknown error'})`
  return socketFailure(socketPath, command, detail)
}

/** Sends one command to a per-process stats socket and returns the whole answer. */
export async function sendCommand(socketPath: string, command: string, options: SocketOptions = {}): Promise<string> {
  assertOneCommand(socketPath, command)
  try {
    return await exchange(socketPath, command, false, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  } catch (error) {
    if (error instanceof ConnectError) throw connectFailure(socketPath, command, error)
    if (error instanceof ResetError) throw socketFailure(socketPath, command, `connection reset (${error.errno})`)
    throw error
  }
}

/**
 * Sends one command to the master CLI and returns a non-empty answer. The master socket is
 * gone for 0.1–0.2 s while the master re-executes on reload, and a connection open at that
 * moment is reset or closed without an answer: all of these are retried for
 * `connectRetryMs`. Only for commands that answer something (not for `reload`).
 */
export async function sendMasterCommand(socketPath: string, command: string, options: MasterSocketOptions = {}): Promise<string> {
  return (await masterRequest(socketPath, command, options, true))!
}

/**
 * `query`: the command always answers something, so a reset or an empty answer means the
 * master went away mid-command and the command is sent again. Otherwise (`reload`) a reset
 * after sending counts as delivered and gives `undefined`.
 */
async function masterRequest(
  socketPath: string,
  command: string,
  options: MasterSocketOptions,
  query: boolean,
): Promise<string | undefined> {
  assertOneCommand(socketPath, command)
  const deadline = Date.now() + (options.connectRetryMs ?? DEFAULT_CONNECT_RETRY_MS)
  for (;;) {
    try {
      const answer = await exchange(socketPath, command, true, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
      if (answer.length > 0 || !query) return answer
      if (Date.now() >= deadline) throw socketFailure(socketPath, command, 'the master closed the connection without answering')
    } catch (error) {
      if (error instanceof ResetError) {
        if (!query) return undefined
        if (Date.now() >= deadline) throw socketFailure(socketPath, command, `connection reset (${error.errno})`)
      } else if (error instanceof ConnectError) {
        // A master re-executing on reload can also reset a connection before it is accepted,
        // and a full listen backlog answers EAGAIN: both mean "not now".
        const retryable = ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EAGAIN'].includes(error.errno ?? '')
        if (!retryable || Date.now() >= deadline) throw connectFailure(socketPath, command, error)
      } else throw error
      await sleep(CONNECT_RETRY_PAUSE_MS)
    }
  }
}

// ---- typed helpers -------------------------------------------------------------------

export async function showStat(statsSocket: string, options?: SocketOptions): Promise<ShowStat> {
  return parseShowStat(await sendCommand(statsSocket, 'show stat', options))
}

/** Raw `show servers state` text, to save to the server-state file before a reload. */
export async function showServersState(statsSocket: string, options?: SocketOptions): Promise<string> {
  const text = await sendCommand(statsSocket, 'show servers state', options)
  if (!/^1\n/.test(text)) throw new RuntimeFailure('haproxy_output', `unexpected answer to \`show servers state\` from ${statsSocket}: ${text.trim().slice(0, 200)}`)
  return text
}

export async function showInfo(statsSocket: string, options?: SocketOptions): Promise<ShowInfo> {
  return parseShowInfo(await sendCommand(statsSocket, 'show info', options))
}

export type ServerAdminState = 'ready' | 'drain' | 'maint'

const NAME = /^[A-Za-z0-9_.:-]+$/

function serverRef(statsSocket: string, backend: string, server: string): string {
  if (!NAME.test(backend) || !NAME.test(server)) {
    throw new RuntimeFailure('haproxy_command', `refusing to address server ${JSON.stringify(`${backend}/${server}`)} on ${statsSocket}`)
  }
  return `${backend}/${server}`
}

async function setCommand(statsSocket: string, command: string, options?: SocketOptions): Promise<void> {
  const answer = (await sendCommand(statsSocket, command, options)).trim()
  // Success is an empty answer; anything else is HAProxy's reason for refusing.
  if (answer.length > 0) {
    throw new RuntimeFailure('haproxy_runtime_refused', `HAProxy at ${statsSocket} refused \`${command}\`: ${answer}`)
  }
}

/**
 * `set server <backend>/<server> weight <n>`. HAProxy refuses weights other than 0 and 100%
 * for static algorithms (`balance source`): the caller must reload instead.
 */
export async function setServerWeight(
  statsSocket: string,
  backend: string,
  server: string,
  weight: number,
  options?: SocketOptions,
): Promise<void> {
  if (!Number.isInteger(weight) || weight < 0 || weight > 256) {
    throw new RuntimeFailure('haproxy_command', `weight ${weight} must be an integer from 0 to 256`)
  }
  await setCommand(statsSocket, `set server ${serverRef(statsSocket, backend, server)} weight ${weight}`, options)
}

/** `set server <backend>/<server> state ready|drain|maint` (maint = admin down: no traffic, no checks). */
export async function setServerState(
  statsSocket: string,
  backend: string,
  server: string,
  state: ServerAdminState,
  options?: SocketOptions,
): Promise<void> {
  if (!['ready', 'drain', 'maint'].includes(state)) throw new RuntimeFailure('haproxy_command', `unknown server state ${JSON.stringify(state)}`)
  await setCommand(statsSocket, `set server ${serverRef(statsSocket, backend, server)} state ${state}`, options)
}

export async function showProc(masterSocket: string, options?: MasterSocketOptions): Promise<ShowProc> {
  return parseShowProc(await sendMasterCommand(masterSocket, 'show proc', options))
}

/**
 * Asks the master to reload. HAProxy 2.6 answers nothing: poll `showProc` (or use
 * `reloadAndWait`). A reset after the command was sent means the master is already
 * re-executing, so it is not retried (that would reload twice).
 */
export async function reload(masterSocket: string, options: MasterSocketOptions = {}): Promise<void> {
  await masterRequest(masterSocket, 'reload', options, false)
}

export interface ReloadOutcome {
  /** true: a new worker runs the new configuration. false: HAProxy refused it and kept the old worker. */
  ok: boolean
  before: ShowProc
  after: ShowProc
}

export interface ReloadOptions extends MasterSocketOptions {
  /** Longest wait for the whole reload; default 10000 ms. */
  waitMs?: number
  pollMs?: number
  /**
   * The stats socket: after a successful reload, also wait until it is answered by the new
   * worker (the old one may still hold the inherited listener for a moment).
   */
  statsSocket?: string
}

/**
 * Reloads and waits until the master has finished: its reload counter (which counts failed
 * reloads too) has moved past `before`. A failed reload (bad configuration, or a worker that
 * cannot start, e.g. maxconn above the fd limit) shows as `[failed: N>0]` with the old worker
 * still current. Throws `haproxy_reload_timeout` when the master does not finish in time.
 */
export async function reloadAndWait(masterSocket: string, options: ReloadOptions = {}): Promise<ReloadOutcome> {
  const waitMs = options.waitMs ?? 10_000
  const pollMs = options.pollMs ?? 25
  const deadline = Date.now() + waitMs
  const timedOut = (what: string) =>
    new RuntimeFailure('haproxy_reload_timeout', `HAProxy at ${masterSocket}: ${what} within ${waitMs} ms of the reload`)
  const before = await showProc(masterSocket, options)
  await reload(masterSocket, options)
  let after: ShowProc
  for (;;) {
    await sleep(pollMs)
    after = await showProc(masterSocket, {...options, connectRetryMs: Math.max(0, deadline - Date.now())})
    if (after.master.reloads > before.master.reloads) break
    if (Date.now() >= deadline) throw timedOut('the master did not finish reloading')
  }
  const previous = new Set(before.workers.map((worker) => worker.pid))
  const newWorkers = new Set(after.workers.filter((worker) => !previous.has(worker.pid)).map((worker) => worker.pid))
  const ok = after.master.failed_reloads === 0 && newWorkers.size > 0
  if (ok && options.statsSocket) {
    for (;;) {
      const pid = await showInfo(options.statsSocket, options).then(
        (info) => info.pid,
        () => undefined,
      )
      if (pid !== undefined && newWorkers.has(pid)) break
      if (Date.now() >= deadline) throw timedOut('the new worker did not answer on the stats socket')
      await sleep(pollMs)
    }
  }
  return {ok, before, after}
}

/**
 * Sends one command whose answer does not end (`show events <ring> -w`) and hands every
 * complete line to `onLine` as it arrives. Resolves when HAProxy closes the connection (the
 * worker stopped, e.g. replaced by a reload) or when `signal` aborts; rejects when the
 * socket cannot be reached.
 */
export function streamCommand(socketPath: string, command: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  assertOneCommand(socketPath, command)
  return new Promise((resolve, reject) => {
    let connected = false
    let pending = ''
    const socket = createConnection({path: socketPath})
    const finish = (error?: Error): void => {
      signal?.removeEventListener('abort', abort)
      socket.destroy()
      if (error) reject(error)
      else resolve()
    }
    const abort = () => finish()
    if (signal?.aborted) return finish()
    signal?.addEventListener('abort', abort, {once: true})
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      connected = true
      socket.write(`${command}\n`)
    })
    socket.on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) onLine(line)
    })
    socket.on('close', () => finish())
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) finish(connectFailure(socketPath, command, new ConnectError(error.code)))
      else finish()
    })
  })
}
