import {GearmanProtocolError} from './errors.js'

/**
 * The Gearman wire formats: binary packets (http://gearman.org/protocol/) and the admin
 * text protocol. Pure: no I/O.
 *
 * A binary packet is a 12-byte header (`\0REQ` or `\0RES`, type as uint32 BE, body size as
 * uint32 BE) and a body of arguments separated by NUL. The number of arguments is fixed
 * per type; the last one is not NUL-terminated and, for data-carrying types, is raw bytes
 * that may contain NUL.
 */

export const PacketType = {
  CAN_DO: 1,
  CANT_DO: 2,
  RESET_ABILITIES: 3,
  PRE_SLEEP: 4,
  NOOP: 6,
  SUBMIT_JOB: 7,
  JOB_CREATED: 8,
  GRAB_JOB: 9,
  NO_JOB: 10,
  JOB_ASSIGN: 11,
  WORK_STATUS: 12,
  WORK_COMPLETE: 13,
  WORK_FAIL: 14,
  GET_STATUS: 15,
  ECHO_REQ: 16,
  ECHO_RES: 17,
  SUBMIT_JOB_BG: 18,
  ERROR: 19,
  STATUS_RES: 20,
  SUBMIT_JOB_HIGH: 21,
  SET_CLIENT_ID: 22,
  CAN_DO_TIMEOUT: 23,
  ALL_YOURS: 24,
  WORK_EXCEPTION: 25,
  OPTION_REQ: 26,
  OPTION_RES: 27,
  WORK_DATA: 28,
  WORK_WARNING: 29,
  GRAB_JOB_UNIQ: 30,
  JOB_ASSIGN_UNIQ: 31,
  SUBMIT_JOB_HIGH_BG: 32,
  SUBMIT_JOB_LOW: 33,
  SUBMIT_JOB_LOW_BG: 34,
  SUBMIT_JOB_SCHED: 35,
  SUBMIT_JOB_EPOCH: 36,
  SUBMIT_REDUCE_JOB: 37,
  SUBMIT_REDUCE_JOB_BACKGROUND: 38,
  GRAB_JOB_ALL: 39,
  JOB_ASSIGN_ALL: 40,
  GET_STATUS_UNIQUE: 41,
  STATUS_RES_UNIQUE: 42,
} as const

export type PacketTypeName = keyof typeof PacketType
export type Magic = 'REQ' | 'RES'

/**
 * Per type: the number of arguments (a trailing data argument included) and whether the
 * last one is opaque data rather than text. From gearmand's command table.
 */
const SHAPES: Readonly<Record<number, readonly [count: number, lastIsData: boolean]>> = {
  [PacketType.CAN_DO]: [1, false],
  [PacketType.CANT_DO]: [1, false],
  [PacketType.RESET_ABILITIES]: [0, false],
  [PacketType.PRE_SLEEP]: [0, false],
  [PacketType.NOOP]: [0, false],
  [PacketType.SUBMIT_JOB]: [3, true],
  [PacketType.JOB_CREATED]: [1, false],
  [PacketType.GRAB_JOB]: [0, false],
  [PacketType.NO_JOB]: [0, false],
  [PacketType.JOB_ASSIGN]: [3, true],
  [PacketType.WORK_STATUS]: [3, false],
  [PacketType.WORK_COMPLETE]: [2, true],
  [PacketType.WORK_FAIL]: [1, false],
  [PacketType.GET_STATUS]: [1, false],
  [PacketType.ECHO_REQ]: [1, true],
  [PacketType.ECHO_RES]: [1, true],
  [PacketType.SUBMIT_JOB_BG]: [3, true],
  [PacketType.ERROR]: [2, false],
  [PacketType.STATUS_RES]: [5, false],
  [PacketType.SUBMIT_JOB_HIGH]: [3, true],
  [PacketType.SET_CLIENT_ID]: [1, false],
  [PacketType.CAN_DO_TIMEOUT]: [2, false],
  [PacketType.ALL_YOURS]: [0, false],
  [PacketType.WORK_EXCEPTION]: [2, true],
  [PacketType.OPTION_REQ]: [1, false],
  [PacketType.OPTION_RES]: [1, false],
  [PacketType.WORK_DATA]: [2, true],
  [PacketType.WORK_WARNING]: [2, true],
  [PacketType.GRAB_JOB_UNIQ]: [0, false],
  [PacketType.JOB_ASSIGN_UNIQ]: [4, true],
  [PacketType.SUBMIT_JOB_HIGH_BG]: [3, true],
  [PacketType.SUBMIT_JOB_LOW]: [3, true],
  [PacketType.SUBMIT_JOB_LOW_BG]: [3, true],
  [PacketType.SUBMIT_JOB_SCHED]: [8, true],
  [PacketType.SUBMIT_JOB_EPOCH]: [4, true],
  [PacketType.SUBMIT_REDUCE_JOB]: [5, true],
  [PacketType.SUBMIT_REDUCE_JOB_BACKGROUND]: [5, true],
  [PacketType.GRAB_JOB_ALL]: [0, false],
  [PacketType.JOB_ASSIGN_ALL]: [5, true],
  [PacketType.GET_STATUS_UNIQUE]: [1, false],
  [PacketType.STATUS_RES_UNIQUE]: [6, false],
}

const TYPE_NAMES = new Map<number, PacketTypeName>(
  Object.entries(PacketType).map(([name, type]) => [type, name as PacketTypeName]),
)

export function packetTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `UNKNOWN(${type})`
}

/** How many arguments a packet of this type carries, or undefined for an unknown type. */
export function argumentCount(type: number): number | undefined {
  return SHAPES[type]?.[0]
}

export interface Packet {
  magic: Magic
  type: number
  args: Buffer[]
}

export interface OutgoingPacket {
  magic: Magic
  type: number
  args: readonly (string | Buffer)[]
}

const HEADER_BYTES = 12
const MAGIC_BYTES: Record<Magic, Buffer> = {REQ: Buffer.from('\0REQ', 'latin1'), RES: Buffer.from('\0RES', 'latin1')}
const NUL = 0

/** Encodes one packet into one buffer, so a single write puts it on the wire whole. */
export function encodePacket({magic, type, args}: OutgoingPacket): Buffer {
  const expected = argumentCount(type)
  if (expected === undefined) throw new GearmanProtocolError(`cannot encode unknown packet type ${type}`)
  if (args.length !== expected) {
    throw new GearmanProtocolError(`${packetTypeName(type)} takes ${expected} arguments, got ${args.length}`)
  }
  const buffers = args.map((arg) => (typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg))
  buffers.slice(0, -1).forEach((arg, index) => {
    if (arg.includes(NUL)) {
      throw new GearmanProtocolError(`argument ${index + 1} of ${packetTypeName(type)} contains a NUL byte`)
    }
  })
  const bodyBytes = buffers.reduce((sum, arg) => sum + arg.length, 0) + Math.max(0, buffers.length - 1)
  const packet = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes)
  MAGIC_BYTES[magic].copy(packet, 0)
  packet.writeUInt32BE(type, 4)
  packet.writeUInt32BE(bodyBytes, 8)
  let offset = HEADER_BYTES
  buffers.forEach((arg, index) => {
    if (index > 0) packet[offset++] = NUL
    offset += arg.copy(packet, offset)
  })
  return packet
}

export const DEFAULT_MAX_PACKET_BYTES = 64 * 1024 * 1024

/**
 * Streaming decoder: feed it chunks as they arrive (split anywhere, several packets per
 * chunk); it returns every packet completed so far. Each body byte is copied at most
 * once, so megabyte payloads cost linear time. Arguments are Buffers (views into the
 * packet body); nothing is decoded as text here, so UTF-8 split across chunks is intact.
 *
 * Throws GearmanProtocolError on garbage; after that the decoder refuses further input,
 * and the connection must be dropped (there is no way to resynchronise a byte stream).
 */
export class PacketDecoder {
  private readonly maxPacketBytes: number
  private chunks: Buffer[] = []
  private buffered = 0
  private header: {magic: Magic; type: number; size: number} | undefined
  private failure: GearmanProtocolError | undefined

  constructor(options: {maxPacketBytes?: number} = {}) {
    this.maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES
  }

  push(chunk: Buffer): Packet[] {
    if (this.failure) throw this.failure
    try {
      return this.decode(chunk)
    } catch (error) {
      this.failure = error instanceof GearmanProtocolError ? error : new GearmanProtocolError(String(error))
      this.chunks = []
      this.buffered = 0
      throw this.failure
    }
  }

  private decode(chunk: Buffer): Packet[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    const packets: Packet[] = []
    for (;;) {
      if (!this.header) {
        this.checkMagicPrefix()
        if (this.buffered < HEADER_BYTES) return packets
        this.header = this.parseHeader(this.take(HEADER_BYTES))
      }
      if (this.buffered < this.header.size) return packets
      const {magic, type, size} = this.header
      this.header = undefined
      packets.push({magic, type, args: splitArguments(type, this.take(size))})
    }
  }

  /** Rejects a bad magic as soon as its first bytes arrive, not only once 12 bytes are in. */
  private checkMagicPrefix(): void {
    const first = this.chunks[0]
    if (!first) return
    const prefix = first.length >= 4 || this.chunks.length === 1 ? first.subarray(0, 4) : this.peek(4)
    const matches = (magic: Buffer) => prefix.equals(magic.subarray(0, prefix.length))
    if (!matches(MAGIC_BYTES.REQ) && !matches(MAGIC_BYTES.RES)) {
      throw new GearmanProtocolError(`bad packet magic ${JSON.stringify(prefix.toString('latin1'))}`)
    }
  }

  private parseHeader(header: Buffer): {magic: Magic; type: number; size: number} {
    const magic: Magic = header[3] === MAGIC_BYTES.REQ[3] ? 'REQ' : 'RES'
    const type = header.readUInt32BE(4)
    const size = header.readUInt32BE(8)
    if (argumentCount(type) === undefined) throw new GearmanProtocolError(`unknown packet type ${type}`)
    if (size > this.maxPacketBytes) {
      throw new GearmanProtocolError(
        `${packetTypeName(type)} packet of ${size} bytes exceeds the limit of ${this.maxPacketBytes}`,
      )
    }
    return {magic, type, size}
  }

  private peek(bytes: number): Buffer {
    return Buffer.concat(this.chunks, Math.min(bytes, this.buffered)).subarray(0, bytes)
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0]
    let taken: Buffer
    if (bytes === 0) {
      taken = Buffer.alloc(0)
    } else if (first && first.length >= bytes) {
      taken = first.subarray(0, bytes)
      if (first.length === bytes) this.chunks.shift()
      else this.chunks[0] = first.subarray(bytes)
    } else {
      taken = Buffer.allocUnsafe(bytes)
      let filled = 0
      while (filled < bytes) {
        const head = this.chunks[0]!
        const used = Math.min(head.length, bytes - filled)
        head.copy(taken, filled, 0, used)
        filled += used
        if (used === head.length) this.chunks.shift()
        else this.chunks[0] = head.subarray(used)
      }
    }
    this.buffered -= bytes
    return taken
  }
}

function splitArguments(type: number, body: Buffer): Buffer[] {
  const count = argumentCount(type)!
  if (count === 0) {
    if (body.length > 0) throw new GearmanProtocolError(`${packetTypeName(type)} carries no arguments but has a body`)
    return []
  }
  const args: Buffer[] = []
  let start = 0
  for (let index = 0; index < count - 1; index++) {
    const end = body.indexOf(NUL, start)
    if (end < 0) {
      throw new GearmanProtocolError(`${packetTypeName(type)} needs ${count} arguments, found ${index + 1}`)
    }
    args.push(body.subarray(start, end))
    start = end + 1
  }
  // gearmand turns a WORK_EXCEPTION into a WORK_FAIL for clients that did not ask for
  // exceptions and copies the handle with its NUL terminator: "H:host:1\0".
  const end = !SHAPES[type]![1] && body.length > start && body[body.length - 1] === NUL ? body.length - 1 : body.length
  args.push(body.subarray(start, end))
  return args
}

// ---------------------------------------------------------------------------------------
// Admin text protocol: one command per line; `status` and `workers` answer lines ending with
// a line holding only "."; `version` answers one line "OK <version>"; errors are one line
// "ERR <code> <text with + for spaces>" (gearmand ends that one with CRLF).

export interface FunctionStatus {
  function: string
  total: number
  running: number
  availableWorkers: number
}

export interface WorkerConnection {
  fd: number
  ip: string
  /** gearmand prints "-" for a connection that never sent SET_CLIENT_ID. */
  clientId: string
  functions: string[]
}

export type AdminResponse = {lines: string[]} | {error: string}

/**
 * Returns the complete response in `text` (everything received so far), or undefined
 * while more is needed.
 */
export function readAdminResponse(text: string, multiLine: boolean): AdminResponse | undefined {
  const lines: string[] = []
  let start = 0
  for (;;) {
    const end = text.indexOf('\n', start)
    if (end < 0) return undefined
    const line = text.slice(start, end).replace(/\r$/, '')
    start = end + 1
    if (lines.length === 0 && line.startsWith('ERR ')) return {error: decodeAdminError(line)}
    if (!multiLine) return {lines: [line]}
    if (line === '.') return {lines}
    lines.push(line)
  }
}

function decodeAdminError(line: string): string {
  const [, code = '', ...rest] = line.split(' ')
  const text = rest.join(' ').replaceAll('+', ' ')
  return text ? `${code}: ${text}` : code
}

export function parseAdminStatus(lines: readonly string[]): FunctionStatus[] {
  return lines.map((line) => {
    const fields = line.split('\t')
    const numbers = fields.slice(1).map(Number)
    if (fields.length !== 4 || numbers.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new GearmanProtocolError(`malformed status line ${JSON.stringify(line)}`)
    }
    const [total, running, availableWorkers] = numbers as [number, number, number]
    return {function: fields[0]!, total, running, availableWorkers}
  })
}

export function parseAdminWorkers(lines: readonly string[]): WorkerConnection[] {
  return lines.map((line) => {
    // " :" followed by a space or the end; an IPv6 address such as "::1" also holds " :".
    const separator = line.search(/ :( |$)/)
    const head = separator < 0 ? [] : line.slice(0, separator).split(' ')
    const fd = Number(head[0])
    if (head.length < 3 || !Number.isInteger(fd)) {
      throw new GearmanProtocolError(`malformed workers line ${JSON.stringify(line)}`)
    }
    return {
      fd,
      ip: head[1]!,
      clientId: head.slice(2).join(' '),
      functions: line.slice(separator + 2).split(' ').filter((name) => name.length > 0),
    }
  })
}

export function parseAdminVersion(line: string): string {
  return line.startsWith('OK ') ? line.slice(3) : line
}
