/**
 * Traffic from the root namespace to a VIP, for the traffic integration tests: single
 * requests (a fresh connection each, or over a keep-alive agent), counting answers by the
 * lab backends' `X-Backend` header, a tiny cookie jar, connections held open on purpose,
 * and a bounded load generator. Every call has a timeout; every loop a count and a deadline.
 */
import {Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders} from 'node:http'
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https'
import {connect, type Socket} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** The lab backend that answered (`X-Backend`), or '' when none did (e.g. HAProxy's 503). */
  backend: string
}

export interface RequestOptions {
  path?: string
  method?: string
  headers?: Record<string, string>
  /** A keep-alive agent; without one every request has its own connection (`Connection: close`). */
  agent?: HttpAgent
  tls?: boolean
  timeoutMs?: number
}

/** One request to `host:port`. Rejects on a socket error or when no whole answer came in time. */
export function send(host: string, port: number, options: RequestOptions = {}): Promise<Reply> {
  const tls = options.tls === true
  const headers = {...options.headers}
  if (!options.agent) headers.Connection = 'close'
  return new Promise((resolve, reject) => {
    const make = tls ? httpsRequest : httpRequest
    const req = make(
      {
        host,
        port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers,
        agent: options.agent ?? false,
        timeout: options.timeoutMs ?? 10_000,
        ...(tls ? {rejectUnauthorized: false} : {}),
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('error', reject)
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            backend: String(res.headers['x-backend'] ?? ''),
          }),
        )
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}:${port} within ${options.timeoutMs ?? 10_000} ms`)))
    req.on('error', reject)
    req.end()
  })
}

export function keepAliveAgent(tls = false): HttpAgent {
  return tls ? new HttpsAgent({keepAlive: true, maxSockets: 1, rejectUnauthorized: false}) : new HttpAgent({keepAlive: true, maxSockets: 1})
}

export interface Tally {
  /** Answers per backend name ('' for answers no backend gave). */
  backends: Record<string, number>
  statuses: Record<number, number>
  errors: string[]
  ok: number
}

export function emptyTally(): Tally {
  return {backends: {}, statuses: {}, errors: [], ok: 0}
}

function record(tally: Tally, reply: Reply): void {
  tally.backends[reply.backend] = (tally.backends[reply.backend] ?? 0) + 1
  tally.statuses[reply.status] = (tally.statuses[reply.status] ?? 0) + 1
  if (reply.status >= 200 && reply.status < 300) tally.ok++
}

/** `count` requests one after another, tallied by backend and status; errors are collected, not thrown. */
export async function tally(host: string, port: number, count: number, options: RequestOptions = {}): Promise<Tally> {
  const result = emptyTally()
  for (let i = 0; i < count; i++) {
    try {
      record(result, await send(host, port, options))
    } catch (error) {
      result.errors.push((error as Error).message)
    }
  }
  return result
}

/** The backends that answered, most first. */
export function backendsSeen(result: Tally): string[] {
  return Object.entries(result.backends)
    .filter(([name]) => name !== '')
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => name)
}

/** A cookie jar for one host: keeps `name=value` pairs from Set-Cookie, sends them back. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  take(reply: Reply): void {
    const setCookie = reply.headers['set-cookie'] ?? []
    for (const line of setCookie) {
      const pair = line.split(';', 1)[0]
      const equals = pair.indexOf('=')
      if (equals > 0) this.cookies.set(pair.slice(0, equals).trim(), pair.slice(equals + 1).trim())
    }
  }

  header(): Record<string, string> {
    if (this.cookies.size === 0) return {}
    return {Cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')}
  }
}

/** A TCP connection to the VIP kept open until `close()`, optionally with a request started but not finished. */
export interface HeldConnection {
  socket: Socket
  /** Everything received so far. */
  received(): string
  closed(): boolean
  close(): void
}

export function hold(host: string, port: number, firstBytes?: string, timeoutMs = 5_000): Promise<HeldConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({host, port})
    let data = ''
    let closed = false
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`could not connect to ${host}:${port} within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (data += chunk))
    socket.on('close', () => (closed = true))
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.on('error', () => undefined)
      if (firstBytes) socket.write(firstBytes)
      resolve({socket, received: () => data, closed: () => closed, close: () => socket.destroy()})
    })
  })
}

export interface LoadOptions {
  host: string
  port: number
  /** Loops that reuse one keep-alive connection each. */
  keepAlive: number
  /** Loops that open a new connection per request (`Connection: close`). */
  close: number
  /** Hard bounds: the load stops at whichever comes first (or at `stop()`). */
  maxRequests: number
  maxMs: number
  /** Pause between two requests of one loop (leaves CPU for the commands under test). */
  pauseMs?: number
}

export interface LoadResult extends Tally {
  requests: number
}

export interface RunningLoad {
  stop(): Promise<LoadResult>
}

/**
 * Starts a bounded load and returns at once; `stop()` ends it and resolves with the tally.
 * A failure is any answer other than 2xx or any socket error.
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const result: LoadResult = {...emptyTally(), requests: 0}
  let stopped = false
  const deadline = Date.now() + options.maxMs
  const active = () => !stopped && result.requests < options.maxRequests && Date.now() < deadline

  async function loop(agent: HttpAgent | undefined): Promise<void> {
    while (active()) {
      result.requests++
      try {
        // No retry, not even of a GET on a reused keep-alive socket: every reset counts.
        const reply = await send(options.host, options.port, {agent, timeoutMs: 10_000})
        record(result, reply)
        if (reply.status < 200 || reply.status >= 300) result.errors.push(`HTTP ${reply.status}`)
      } catch (error) {
        result.errors.push(`${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`.trim())
        await sleep(10)
      }
      if (options.pauseMs) await sleep(options.pauseMs)
    }
    agent?.destroy()
  }

  const loops = [
    ...Array.from({length: options.keepAlive}, () => loop(keepAliveAgent())),
    ...Array.from({length: options.close}, () => loop(undefined)),
  ]
  const done = Promise.all(loops)
  return {
    async stop() {
      stopped = true
      await done
      return result
    },
  }
}
