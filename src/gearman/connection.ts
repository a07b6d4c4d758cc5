import {EventEmitter} from 'node:events'
import {readFileSync} from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'

import {UsageError} from '../domain/errors.js'
import {encodePacket, packetTypeName, PacketDecoder, type OutgoingPacket, type Packet} from './codec.js'
import {GearmanProtocolError, GearmanTimeoutError, GearmanUnavailableError} from './errors.js'

export interface ServerAddress {
  host: string
  port: number
}

/** TLS file paths as the operator gives them: all three or none. */
export interface TlsFiles {
  ca?: string
  cert?: string
  key?: string
}

/** TLS material read from the files: the CA verifies the server, cert+key identify us. */
export interface TlsMaterial {
  ca: Buffer
  cert: Buffer
  key: Buffer
}

export type GearmanLogLevel = 'debug' | 'info' | 'warn' | 'error'
export type GearmanLogger = (level: GearmanLogLevel, message: string) => void

export function formatServer(server: ServerAddress): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`
}

/**
 * Parses `HOST:PORT`, `HOST` (default port), `[IPv6]:PORT` or `[IPv6]`. Throws UsageError.
 */
export function parseServerAddress(text: string, defaultPort = 4730): ServerAddress {
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:\s]+)(?::(\d+))?$/.exec(text)
  const port = match?.[2] === undefined ? defaultPort : Number(match[2])
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(
      `invalid Gearman server ${JSON.stringify(text)}`,
      'use HOST:PORT, for example 127.0.0.1:4730 or [::1]:4730',
      'invalid_gearman_server',
    )
  }
  return {host: match[1]!, port}
}

/**
 * Reads the TLS files. Libra silently fell back to plaintext when only some were set;
 * here a partial set, or a file that cannot be read, is a UsageError before any connect.
 */
export function loadTlsMaterial(files: TlsFiles | undefined): TlsMaterial | undefined {
  const given = (['ca', 'cert', 'key'] as const).filter((name) => files?.[name])
  if (given.length === 0) return undefined
  if (given.length < 3) {
    const missing = (['ca', 'cert', 'key'] as const).filter((name) => !files?.[name])
    throw new UsageError(
      `TLS needs a CA file, a certificate and a key; missing: ${missing.join(', ')}`,
      'give --tls-ca, --tls-cert and --tls-key together, or none of them',
      'tls_options_incomplete',
    )
  }
  const read = (name: 'ca' | 'cert' | 'key') => {
    try {
      return readFileSync(files![name]!)
    } catch (error) {
      throw new UsageError(`cannot read TLS ${name} file ${files![name]}: ${(error as Error).message}`, undefined, 'tls_file_unreadable')
    }
  }
  return {ca: read('ca'), cert: read('cert'), key: read('key')}
}

/**
 * Opens one TCP or TLS socket with Nagle off and keep-alive on. Resolves once the socket
 * is usable (after the TLS handshake and certificate check); rejects with
 * GearmanTimeoutError or GearmanUnavailableError, leaving nothing open.
 */
export function openSocket(server: ServerAddress, tlsMaterial: TlsMaterial | undefined, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = tlsMaterial
      ? tls.connect({host: server.host, port: server.port, ...tlsMaterial})
      : net.connect({host: server.host, port: server.port})
    let settled = false
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      reject(error)
    }
    const timer = setTimeout(
      () => fail(new GearmanTimeoutError(`connecting to ${formatServer(server)} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    )
    const onError = (error: Error) => fail(new GearmanUnavailableError(`cannot connect to ${formatServer(server)}: ${error.message}`))
    socket.on('error', onError)
    socket.once(tlsMaterial ? 'secureConnect' : 'connect', () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.off('error', onError)
      // Without this, a small request written after a small reply waits for the peer's
      // delayed ACK: 40-44 ms per job (reference/probe.md §5).
      socket.setNoDelay(true)
      socket.setKeepAlive(true, 15_000)
      resolve(socket)
    })
  })
}

export interface BackoffPolicy {
  initialMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = {initialMs: 100, maxMs: 5_000}

/** Capped exponential backoff with jitter: the wait before retry number `failures` (0-based). */
export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures, 30))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

export interface ConnectionOptions {
  tls?: TlsMaterial
  connectTimeoutMs?: number
  /** Keep reconnecting after a failure or a loss, forever (workers); otherwise connect on demand (clients). */
  reconnect?: boolean
  backoff?: BackoffPolicy
  maxPacketBytes?: number
  logger?: GearmanLogger
}

interface ConnectionEvents {
  connected: []
  /** The socket was lost; `error` says why, undefined for a clean close. */
  disconnected: [error: Error | undefined]
  packet: [packet: Packet]
}

/**
 * One connection to one job server.
 *
 * - `start()` (reconnect mode) connects and keeps reconnecting with capped exponential
 *   backoff and jitter until `close()`. `connect()` makes one attempt, shared by
 *   concurrent callers, and rejects with GearmanUnavailableError/GearmanTimeoutError.
 * - `send()` writes each call's packets as one buffer, so packets never interleave;
 *   it returns false (and sends nothing) while disconnected.
 * - `session` grows by one on every successful connect: state tied to a session (job
 *   handles) is void once the session changed.
 * - A protocol error from the peer drops the connection (reconnect mode then retries).
 */
export class GearmanConnection extends EventEmitter<ConnectionEvents> {
  readonly server: ServerAddress
  private readonly tls: TlsMaterial | undefined
  private readonly connectTimeoutMs: number
  private readonly reconnect: boolean
  private readonly backoff: BackoffPolicy
  private readonly maxPacketBytes: number | undefined
  private readonly logger: GearmanLogger | undefined
  private socket: net.Socket | undefined
  private pending: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private failures = 0
  private closed = false
  private sessionCount = 0

  constructor(server: ServerAddress, options: ConnectionOptions = {}) {
    super()
    this.server = server
    this.tls = options.tls
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000
    this.reconnect = options.reconnect ?? false
    this.backoff = options.backoff ?? DEFAULT_BACKOFF
    this.maxPacketBytes = options.maxPacketBytes
    this.logger = options.logger
  }

  get connected(): boolean {
    return this.socket !== undefined
  }

  get session(): number {
    return this.sessionCount
  }

  get label(): string {
    return formatServer(this.server)
  }

  /** Reconnect mode: connect now and keep the connection up until close(). */
  start(): void {
    if (this.closed || this.socket || this.pending || this.retryTimer) return
    this.connect().catch(() => undefined)
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new GearmanUnavailableError(`connection to ${this.label} is closed`))
    if (this.socket) return Promise.resolve()
    this.pending ??= this.attempt().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  send(...packets: OutgoingPacket[]): boolean {
    if (!this.socket?.writable) return false
    const encoded = packets.map(encodePacket)
    this.socket.write(encoded.length === 1 ? encoded[0]! : Buffer.concat(encoded))
    return true
  }

  /** Stops reconnecting, flushes what was written, and closes. Idempotent. */
  async close(timeoutMs = 2_000): Promise<void> {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const socket = this.socket
    if (!socket) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), timeoutMs)
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.end()
    })
  }

  private async attempt(): Promise<void> {
    let socket: net.Socket
    try {
      socket = await openSocket(this.server, this.tls, this.connectTimeoutMs)
    } catch (error) {
      // The first failure in a row is worth a warning; the retries after it are not.
      if (this.reconnect) this.logger?.(this.failures === 0 ? 'warn' : 'debug', (error as Error).message)
      this.scheduleRetry(error as Error)
      throw error
    }
    if (this.closed) {
      socket.destroy()
      throw new GearmanUnavailableError(`connection to ${this.label} is closed`)
    }
    this.adopt(socket)
  }

  private adopt(socket: net.Socket): void {
    const decoder = new PacketDecoder({maxPacketBytes: this.maxPacketBytes})
    let lostReason: Error | undefined
    const connectedAt = Date.now()
    this.socket = socket
    this.sessionCount++
    socket.on('data', (chunk: Buffer) => {
      let packets: Packet[]
      try {
        packets = decoder.push(chunk)
      } catch (error) {
        lostReason = error as GearmanProtocolError
        socket.destroy()
        return
      }
      for (const packet of packets) {
        if (this.socket !== socket) return
        try {
          this.emit('packet', packet)
        } catch (error) {
          this.logger?.('error', `handling ${describePacket(packet)} from ${this.label} failed: ${(error as Error).stack}`)
        }
      }
    })
    socket.on('error', (error) => {
      lostReason ??= error
    })
    socket.on('close', () => {
      if (this.socket !== socket) return
      this.socket = undefined
      // Only a connection that stayed up resets the backoff, so a server that accepts and
      // drops at once is not hammered.
      if (Date.now() - connectedAt > 10_000) this.failures = 0
      const reason = this.closed ? undefined : (lostReason ?? new GearmanUnavailableError(`${this.label} closed the connection`))
      if (reason) this.logger?.('warn', `lost connection to ${this.label}: ${reason.message}`)
      this.emit('disconnected', reason)
      if (reason) this.scheduleRetry(reason)
    })
    this.logger?.('info', `connected to ${this.label}`)
    this.emit('connected')
  }

  private scheduleRetry(error: Error): void {
    if (!this.reconnect || this.closed || this.retryTimer) return
    const delay = backoffDelay(this.failures, this.backoff)
    this.logger?.('debug', `retrying ${this.label} in ${delay} ms (${error.message})`)
    this.failures++
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.start()
    }, delay)
  }
}

/** Human-readable form of a packet for logs. */
export function describePacket(packet: Packet): string {
  return `${packetTypeName(packet.type)}(${packet.args.map((arg) => (arg.length > 40 ? `${arg.length} bytes` : arg.toString('utf8'))).join(', ')})`
}
