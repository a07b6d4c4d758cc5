import {randomUUID} from 'node:crypto'

import {UsageError} from '../domain/errors.js'
import {PacketType, type Packet} from './codec.js'
import {
  describePacket,
  GearmanConnection,
  loadTlsMaterial,
  type GearmanLogger,
  type ServerAddress,
  type TlsFiles,
} from './connection.js'
import {GearmanJobFailedError, GearmanTimeoutError, GearmanUnavailableError} from './errors.js'

export interface GearmanClientOptions {
  servers: readonly ServerAddress[]
  tls?: TlsFiles
  connectTimeoutMs?: number
  logger?: GearmanLogger
  maxPacketBytes?: number
}

export interface SubmitOptions {
  /** Covers everything: finding a server, queueing, and the worker's run. Required: Gearman jobs can wait forever. */
  timeoutMs: number
  /** gearmand merges jobs with equal unique ids into one; the default is a random UUID. */
  unique?: string
  /** Resolve as soon as the server queued the job (with the job handle), not when it finishes. */
  background?: boolean
  priority?: 'normal' | 'high' | 'low'
}

interface Submission {
  functionName: string
  background: boolean
  handle?: string
  link?: ClientLink
  chunks: Buffer[]
  settled: boolean
  timer?: NodeJS.Timeout
  resolve: (result: Buffer) => void
  reject: (error: Error) => void
}

interface ClientLink {
  connection: GearmanConnection
  /** Submissions sent and waiting for JOB_CREATED, in the order the server answers them. */
  awaitingCreated: Submission[]
  byHandle: Map<string, Submission[]>
  optionPending: boolean
}

const SUBMIT_TYPES = {
  normal: [PacketType.SUBMIT_JOB, PacketType.SUBMIT_JOB_BG],
  high: [PacketType.SUBMIT_JOB_HIGH, PacketType.SUBMIT_JOB_HIGH_BG],
  low: [PacketType.SUBMIT_JOB_LOW, PacketType.SUBMIT_JOB_LOW_BG],
} as const

/**
 * A Gearman client over one or more job servers.
 *
 * Contract:
 * - Connects on demand: a submission goes to a connected server if there is one
 *   (round-robin among them), otherwise to the first listed server that accepts a
 *   connection. A lost connection is reopened by the next submission.
 * - `submitJob` resolves with the result (WORK_DATA chunks followed by WORK_COMPLETE,
 *   concatenated) and rejects with GearmanJobFailedError (WORK_FAIL, WORK_EXCEPTION, or
 *   the server refused the job), GearmanTimeoutError, or GearmanUnavailableError (no
 *   server reachable, connection lost while the job ran, client closed). Gearman cannot
 *   cancel a job: after a timeout the job may still run on a worker.
 * - Asks each server for WORK_EXCEPTION forwarding (OPTION_REQ "exceptions"), so a failed
 *   job's message reaches the caller.
 */
export class GearmanClient {
  private readonly links: ClientLink[]
  private readonly pending = new Set<Submission>()
  private readonly log: GearmanLogger
  private nextLink = 0
  private closed = false

  constructor(options: GearmanClientOptions) {
    if (options.servers.length === 0) throw new UsageError('a Gearman client needs at least one job server', undefined, 'gearman_no_servers')
    const tls = loadTlsMaterial(options.tls)
    this.log = options.logger ?? (() => undefined)
    this.links = options.servers.map((server) => {
      const connection = new GearmanConnection(server, {
        tls,
        connectTimeoutMs: options.connectTimeoutMs,
        logger: options.logger,
        maxPacketBytes: options.maxPacketBytes,
      })
      const link: ClientLink = {connection, awaitingCreated: [], byHandle: new Map(), optionPending: false}
      connection.on('connected', () => {
        link.optionPending = true
        connection.send({magic: 'REQ', type: PacketType.OPTION_REQ, args: ['exceptions']})
      })
      connection.on('packet', (packet) => this.onPacket(link, packet))
      connection.on('disconnected', (error) => this.onDisconnected(link, error))
      return link
    })
  }

  submitJob(functionName: string, payload: string | Buffer, options: SubmitOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(new GearmanUnavailableError('the Gearman client is closed'))
    if (!(options.timeoutMs > 0)) return Promise.reject(new UsageError(`timeoutMs must be positive, got ${options.timeoutMs}`))
    const background = options.background ?? false
    const unique = options.unique ?? randomUUID()
    const type = SUBMIT_TYPES[options.priority ?? 'normal'][background ? 1 : 0]
    return new Promise<Buffer>((resolve, reject) => {
      const submission: Submission = {functionName, background, chunks: [], settled: false, resolve, reject}
      this.pending.add(submission)
      submission.timer = setTimeout(
        () => this.settle(submission, new GearmanTimeoutError(`job for ${functionName} did not finish within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      )
      this.pickLink().then(
        (link) => {
          if (submission.settled) return
          let sent: boolean
          try {
            sent = link.connection.send({magic: 'REQ', type, args: [functionName, unique, payload]})
          } catch (error) {
            this.settle(submission, error as Error)
            return
          }
          if (!sent) {
            this.settle(submission, new GearmanUnavailableError(`lost the connection to ${link.connection.label} before submitting`))
            return
          }
          // Only what went on the wire joins the queue that JOB_CREATED answers are matched against.
          submission.link = link
          link.awaitingCreated.push(submission)
        },
        (error: Error) => this.settle(submission, error),
      )
    })
  }

  /** Rejects every pending job with GearmanUnavailableError and closes the connections. */
  async close(): Promise<void> {
    this.closed = true
    for (const submission of [...this.pending]) {
      this.settle(submission, new GearmanUnavailableError('the Gearman client was closed'))
    }
    await Promise.all(this.links.map((link) => link.connection.close()))
  }

  private async pickLink(): Promise<ClientLink> {
    const start = this.nextLink++ % this.links.length
    const rotated = [...this.links.slice(start), ...this.links.slice(0, start)]
    const live = rotated.find((link) => link.connection.connected)
    if (live) return live
    const failures: string[] = []
    for (const link of this.links) {
      try {
        await link.connection.connect()
        return link
      } catch (error) {
        failures.push((error as Error).message)
      }
    }
    throw new GearmanUnavailableError(`no Gearman job server reachable: ${failures.join('; ')}`)
  }

  private onPacket(link: ClientLink, packet: Packet): void {
    const handle = packet.args[0]?.toString('utf8') ?? ''
    switch (packet.type) {
      case PacketType.JOB_CREATED: {
        const submission = link.awaitingCreated.shift()
        if (!submission || submission.settled) return
        submission.handle = handle
        if (submission.background) {
          this.settle(submission, Buffer.from(handle, 'utf8'))
          return
        }
        const sharing = link.byHandle.get(handle)
        if (sharing) sharing.push(submission)
        else link.byHandle.set(handle, [submission])
        return
      }
      case PacketType.WORK_DATA:
        for (const submission of link.byHandle.get(handle) ?? []) submission.chunks.push(packet.args[1]!)
        return
      case PacketType.WORK_COMPLETE:
        for (const submission of link.byHandle.get(handle) ?? []) {
          this.settle(submission, Buffer.concat([...submission.chunks, packet.args[1]!]))
        }
        return
      case PacketType.WORK_FAIL:
        for (const submission of link.byHandle.get(handle) ?? []) {
          this.settle(submission, new GearmanJobFailedError(`job ${handle} for ${submission.functionName} failed`))
        }
        return
      case PacketType.WORK_EXCEPTION:
        for (const submission of link.byHandle.get(handle) ?? []) {
          const detail = packet.args[1]!.toString('utf8')
          this.settle(submission, new GearmanJobFailedError(`job ${handle} for ${submission.functionName} failed`, detail))
        }
        return
      case PacketType.OPTION_RES:
        link.optionPending = false
        return
      case PacketType.ERROR: {
        const detail = `${handle} ${packet.args[1]!.toString('utf8')}`
        if (link.optionPending) {
          link.optionPending = false
          this.log('debug', `${link.connection.label} does not forward exceptions: ${detail}`)
          return
        }
        const submission = link.awaitingCreated.shift()
        if (submission) this.settle(submission, new GearmanJobFailedError('the job server refused the job', detail))
        else this.log('warn', `${link.connection.label} sent ${describePacket(packet)}`)
        return
      }
      case PacketType.WORK_STATUS:
      case PacketType.WORK_WARNING:
        return
      default:
        this.log('debug', `${link.connection.label} sent unexpected ${describePacket(packet)}`)
    }
  }

  private onDisconnected(link: ClientLink, error: Error | undefined): void {
    const lost = [...link.awaitingCreated, ...[...link.byHandle.values()].flat()]
    link.awaitingCreated = []
    link.byHandle.clear()
    const reason = error ? `: ${error.message}` : ''
    for (const submission of lost) {
      this.settle(submission, new GearmanUnavailableError(`lost the connection to ${link.connection.label} while the job was pending${reason}`))
    }
  }

  private settle(submission: Submission, outcome: Buffer | Error): void {
    if (submission.settled) return
    submission.settled = true
    clearTimeout(submission.timer)
    this.pending.delete(submission)
    const {link, handle} = submission
    if (link && handle !== undefined) {
      const sharing = link.byHandle.get(handle)?.filter((other) => other !== submission)
      if (sharing?.length) link.byHandle.set(handle, sharing)
      else link.byHandle.delete(handle)
    }
    if (outcome instanceof Error) submission.reject(outcome)
    else submission.resolve(outcome)
  }
}
