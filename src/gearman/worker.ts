import {EventEmitter} from 'node:events'

import {UsageError} from '../domain/errors.js'
import {PacketType, type OutgoingPacket, type Packet} from './codec.js'
import {
  describePacket,
  GearmanConnection,
  loadTlsMaterial,
  type BackoffPolicy,
  type GearmanLogger,
  type ServerAddress,
  type TlsFiles,
} from './connection.js'

export interface GearmanJob {
  handle: string
  functionName: string
  unique: string
  payload: Buffer
  /** Sends WORK_DATA (a partial result) to the waiting client; false if the connection is gone. */
  sendData(data: Buffer | string): boolean
  /** Sends WORK_STATUS (progress) to the waiting client; false if the connection is gone. */
  sendStatus(numerator: number, denominator: number): boolean
}

export type JobHandler = (job: GearmanJob) => Promise<Buffer | string>

/**
 * Separate budgets for kinds of job. Gearman hands a worker the next queued job whatever its
 * kind, so one budget shared by all would let held slow jobs use up the room a quick one
 * needs; with lanes, a job counts only against its own lane's limit, and the worker grabs
 * while every lane has room (the next job may be of any kind).
 */
export interface JobLanes {
  /** The lane of an assigned job (called once per job, before the handler). */
  laneOf(job: {functionName: string; payload: Buffer}): string
  /** Jobs each lane may hold at once; a job whose lane is not listed counts against none. */
  limits: Readonly<Record<string, number>>
}

export interface GearmanWorkerOptions {
  servers: readonly ServerAddress[]
  functionName: string
  clientId: string
  /** Jobs that may run at once, across all servers, when no `lanes` are given. Default 1. */
  maxInFlight?: number
  /** Per-lane limits instead of one `maxInFlight` budget. */
  lanes?: JobLanes
  tls?: TlsFiles
  logger?: GearmanLogger
  connectTimeoutMs?: number
  backoff?: BackoffPolicy
  maxPacketBytes?: number
}

interface WorkerEvents {
  connected: [server: ServerAddress]
  disconnected: [server: ServerAddress]
}

/**
 * Per connection: `awake` wants a job but holds no GRAB (fresh connection, NOOP received,
 * or no capacity); `grabbing` has a GRAB_JOB_UNIQ outstanding; `sleeping` sent PRE_SLEEP
 * and waits for NOOP; `down` is not connected.
 */
type LinkState = 'down' | 'awake' | 'grabbing' | 'sleeping'

interface Link {
  connection: GearmanConnection
  state: LinkState
}

/**
 * A Gearman worker for one function on every listed job server.
 *
 * Contract:
 * - Constructing it throws UsageError for bad options (no server, partial TLS files,
 *   unreadable TLS file, maxInFlight < 1). Nothing else it does throws.
 * - `start()` connects to every server and reconnects forever; on each (re)connect it
 *   sends SET_CLIENT_ID, CAN_DO, and grabs. At most `maxInFlight` jobs run at once, or with
 *   `lanes`, at most each lane's limit in that lane (an outstanding GRAB counts as one in
 *   every lane, so the server never assigns more than a lane has room for).
 * - The reply goes to the connection the job came from. If that connection was lost in
 *   the meantime, the result is dropped and logged: the server re-queues such jobs.
 * - A handler that throws or rejects answers WORK_FAIL (the message goes to the logger)
 *   and never stops the worker. Not WORK_EXCEPTION: gearmand 1.1.20 relays it to clients
 *   that did not ask for exceptions as a WORK_FAIL whose handle keeps its NUL, and the
 *   `gearman` CLI client then waits forever.
 * - `stop()` stops grabbing, waits (bounded) for running jobs, sends CANT_DO and
 *   RESET_ABILITIES, and closes. Idempotent.
 */
export class GearmanWorker extends EventEmitter<WorkerEvents> {
  private readonly links: Link[]
  private readonly functionName: string
  private readonly clientId: string
  private readonly lanes: JobLanes
  private readonly handler: JobHandler
  private readonly log: GearmanLogger
  private running = 0
  private readonly held = new Map<string, number>()
  private nextLink = 0
  private stopping = false
  /** Set once stop() stopped waiting: a job assigned after this is left to the server to re-queue. */
  private closing = false
  private started = false
  private idleWaiters: (() => void)[] = []

  constructor(options: GearmanWorkerOptions, handler: JobHandler) {
    super()
    if (options.servers.length === 0) throw new UsageError('a Gearman worker needs at least one job server', undefined, 'gearman_no_servers')
    if (!options.functionName || options.functionName.includes('\0')) {
      throw new UsageError(`invalid Gearman function name ${JSON.stringify(options.functionName)}`, undefined, 'gearman_function_name')
    }
    const maxInFlight = options.maxInFlight ?? 1
    const lanes = options.lanes ?? {laneOf: () => 'all', limits: {all: maxInFlight}}
    for (const limit of [maxInFlight, ...Object.values(lanes.limits)]) {
      if (!Number.isInteger(limit) || limit < 1) {
        throw new UsageError(`concurrency must be a whole number of at least 1, got ${limit}`, undefined, 'gearman_concurrency')
      }
    }
    const tls = loadTlsMaterial(options.tls)
    this.functionName = options.functionName
    this.clientId = options.clientId.replaceAll('\0', '')
    this.lanes = lanes
    this.handler = handler
    this.log = options.logger ?? (() => undefined)
    this.links = options.servers.map((server) => {
      const connection = new GearmanConnection(server, {
        tls,
        reconnect: true,
        logger: options.logger,
        connectTimeoutMs: options.connectTimeoutMs,
        backoff: options.backoff,
        maxPacketBytes: options.maxPacketBytes,
      })
      const link: Link = {connection, state: 'down'}
      connection.on('connected', () => this.onConnected(link))
      connection.on('disconnected', () => this.onDisconnected(link))
      connection.on('packet', (packet) => this.onPacket(link, packet))
      return link
    })
  }

  /** Jobs running right now. */
  get runningJobs(): number {
    return this.running
  }

  start(): void {
    if (this.started) return
    this.started = true
    for (const link of this.links) link.connection.start()
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    if (!this.isIdle()) {
      let timer: NodeJS.Timeout | undefined
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ])
      clearTimeout(timer)
      if (!drained) this.log('warn', `stopping with ${this.running} job(s) still running; the job server will re-queue them`)
    }
    this.closing = true
    for (const link of this.links) {
      link.connection.send(
        {magic: 'REQ', type: PacketType.CANT_DO, args: [this.functionName]},
        {magic: 'REQ', type: PacketType.RESET_ABILITIES, args: []},
      )
    }
    await Promise.all(this.links.map((link) => link.connection.close()))
  }

  private onConnected(link: Link): void {
    link.state = 'awake'
    link.connection.send(
      {magic: 'REQ', type: PacketType.SET_CLIENT_ID, args: [this.clientId]},
      {magic: 'REQ', type: PacketType.CAN_DO, args: [this.functionName]},
    )
    this.emit('connected', link.connection.server)
    this.pump()
  }

  private onDisconnected(link: Link): void {
    link.state = 'down'
    this.emit('disconnected', link.connection.server)
    this.notifyIfIdle()
  }

  private onPacket(link: Link, packet: Packet): void {
    switch (packet.type) {
      case PacketType.NOOP:
        if (link.state === 'sleeping') link.state = 'awake'
        this.pump()
        return
      case PacketType.NO_JOB:
        if (link.state !== 'grabbing') return
        if (this.stopping) {
          link.state = 'awake'
          this.notifyIfIdle()
          return
        }
        link.state = 'sleeping'
        link.connection.send({magic: 'REQ', type: PacketType.PRE_SLEEP, args: []})
        return
      case PacketType.JOB_ASSIGN_UNIQ:
      case PacketType.JOB_ASSIGN: {
        const [handle, functionName, unique, payload] =
          packet.type === PacketType.JOB_ASSIGN_UNIQ ? packet.args : [packet.args[0], packet.args[1], Buffer.alloc(0), packet.args[2]]
        link.state = 'awake'
        if (this.closing) return
        void this.runJob(link, {
          handle: handle!.toString('utf8'),
          functionName: functionName!.toString('utf8'),
          unique: unique!.toString('utf8'),
          payload: payload!,
        })
        this.pump()
        return
      }
      case PacketType.ERROR:
        this.log('warn', `${link.connection.label} sent ${describePacket(packet)}`)
        return
      default:
        this.log('debug', `${link.connection.label} sent unexpected ${describePacket(packet)}`)
    }
  }

  /** Jobs each lane holds right now (running or waiting in the handler). */
  heldJobs(lane: string): number {
    return this.held.get(lane) ?? 0
  }

  /** Sends GRAB_JOB_UNIQ on awake connections while every lane has room, rotating between servers. */
  private pump(): void {
    if (this.stopping) return
    const roomPerLane = Object.entries(this.lanes.limits).map(([lane, limit]) => limit - this.heldJobs(lane))
    let free = Math.min(...roomPerLane) - this.links.filter((link) => link.state === 'grabbing').length
    for (let step = 0; step < this.links.length && free > 0; step++) {
      const link = this.links[(this.nextLink + step) % this.links.length]!
      if (link.state !== 'awake') continue
      link.state = 'grabbing'
      link.connection.send({magic: 'REQ', type: PacketType.GRAB_JOB_UNIQ, args: []})
      free--
    }
    this.nextLink = (this.nextLink + 1) % this.links.length
  }

  private async runJob(link: Link, assigned: Omit<GearmanJob, 'sendData' | 'sendStatus'>): Promise<void> {
    const session = link.connection.session
    const reply = (...packets: OutgoingPacket[]) => link.connection.session === session && link.connection.send(...packets)
    const {handle} = assigned
    const job: GearmanJob = {
      ...assigned,
      sendData: (data) => reply({magic: 'REQ', type: PacketType.WORK_DATA, args: [handle, data]}),
      sendStatus: (numerator, denominator) =>
        reply({magic: 'REQ', type: PacketType.WORK_STATUS, args: [handle, String(numerator), String(denominator)]}),
    }
    let lane: string
    try {
      lane = this.lanes.laneOf(assigned)
    } catch {
      lane = ''
    }
    this.running++
    this.held.set(lane, this.heldJobs(lane) + 1)
    let packets: OutgoingPacket[]
    try {
      const result: unknown = await this.handler(job)
      if (typeof result !== 'string' && !Buffer.isBuffer(result)) {
        throw new TypeError(`the job handler returned ${typeof result}, not a Buffer or string`)
      }
      packets = [{magic: 'REQ', type: PacketType.WORK_COMPLETE, args: [handle, result]}]
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      this.log('warn', `job ${handle} (${assigned.functionName}) failed: ${message}`)
      packets = [{magic: 'REQ', type: PacketType.WORK_FAIL, args: [handle]}]
    } finally {
      this.running--
      this.held.set(lane, this.heldJobs(lane) - 1)
    }
    if (!reply(...packets)) {
      this.log('warn', `dropped the result of job ${handle}: its connection to ${link.connection.label} was lost`)
    }
    this.pump()
    this.notifyIfIdle()
  }

  private isIdle(): boolean {
    return this.running === 0 && this.links.every((link) => link.state !== 'grabbing')
  }

  private notifyIfIdle(): void {
    if (!this.stopping || !this.isIdle()) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}
