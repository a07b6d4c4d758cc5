import {describe, expect, it} from 'vitest'

import {
  argumentCount,
  encodePacket,
  PacketDecoder,
  PacketType,
  packetTypeName,
  type Magic,
  type Packet,
} from '../../../src/gearman/codec.js'
import {GearmanProtocolError} from '../../../src/gearman/errors.js'

function header(magic: string, type: number, size: number): Buffer {
  const bytes = Buffer.alloc(12)
  bytes.write(magic, 0, 'latin1')
  bytes.writeUInt32BE(type, 4)
  bytes.writeUInt32BE(size, 8)
  return bytes
}

function decodeAll(chunks: Buffer[]): Packet[] {
  const decoder = new PacketDecoder()
  return chunks.flatMap((chunk) => decoder.push(chunk))
}

function argsAsText(packet: Packet): string[] {
  return packet.args.map((arg) => arg.toString('utf8'))
}

/** One sample per packet type the worker and client send or receive, with its direction. */
const SAMPLES: {magic: Magic; type: number; args: (string | Buffer)[]}[] = [
  {magic: 'REQ', type: PacketType.CAN_DO, args: ['lb-host-1']},
  {magic: 'REQ', type: PacketType.CANT_DO, args: ['lb-host-1']},
  {magic: 'REQ', type: PacketType.RESET_ABILITIES, args: []},
  {magic: 'REQ', type: PacketType.PRE_SLEEP, args: []},
  {magic: 'RES', type: PacketType.NOOP, args: []},
  {magic: 'REQ', type: PacketType.SUBMIT_JOB, args: ['fn', 'uniq-1', '{"hpcs_action":"STATS"}']},
  {magic: 'REQ', type: PacketType.SUBMIT_JOB_BG, args: ['fn', 'uniq-2', 'bg']},
  {magic: 'REQ', type: PacketType.SUBMIT_JOB_HIGH, args: ['fn', 'uniq-3', 'hi']},
  {magic: 'REQ', type: PacketType.SUBMIT_JOB_LOW, args: ['fn', 'uniq-4', 'lo']},
  {magic: 'RES', type: PacketType.JOB_CREATED, args: ['H:host:1']},
  {magic: 'REQ', type: PacketType.GRAB_JOB_UNIQ, args: []},
  {magic: 'RES', type: PacketType.NO_JOB, args: []},
  {magic: 'RES', type: PacketType.JOB_ASSIGN, args: ['H:host:2', 'fn', 'data']},
  {magic: 'RES', type: PacketType.JOB_ASSIGN_UNIQ, args: ['H:host:3', 'fn', 'uniq-5', Buffer.from('a\0b\0c')]},
  {magic: 'REQ', type: PacketType.WORK_STATUS, args: ['H:host:3', '1', '4']},
  {magic: 'REQ', type: PacketType.WORK_DATA, args: ['H:host:3', 'partial']},
  {magic: 'REQ', type: PacketType.WORK_COMPLETE, args: ['H:host:3', '{"hpcs_response":"PASS"}']},
  {magic: 'RES', type: PacketType.WORK_COMPLETE, args: ['H:host:3', '']},
  {magic: 'REQ', type: PacketType.WORK_EXCEPTION, args: ['H:host:3', 'boom']},
  {magic: 'REQ', type: PacketType.WORK_FAIL, args: ['H:host:3']},
  {magic: 'REQ', type: PacketType.SET_CLIENT_ID, args: ['lb-host-1']},
  {magic: 'REQ', type: PacketType.OPTION_REQ, args: ['exceptions']},
  {magic: 'RES', type: PacketType.OPTION_RES, args: ['exceptions']},
  {magic: 'RES', type: PacketType.ERROR, args: ['ERR_CODE', 'some text']},
  {magic: 'REQ', type: PacketType.ECHO_REQ, args: [Buffer.from([0, 1, 2, 0])]},
  {magic: 'RES', type: PacketType.STATUS_RES_UNIQUE, args: ['u', '1', '0', '3', '4', '2']},
]

describe('packet type table', () => {
  it('numbers the types as the protocol does', () => {
    expect(PacketType.CAN_DO).toBe(1)
    expect(PacketType.NOOP).toBe(6)
    expect(PacketType.SUBMIT_JOB).toBe(7)
    expect(PacketType.WORK_COMPLETE).toBe(13)
    expect(PacketType.SET_CLIENT_ID).toBe(22)
    expect(PacketType.WORK_EXCEPTION).toBe(25)
    expect(PacketType.GRAB_JOB_UNIQ).toBe(30)
    expect(PacketType.JOB_ASSIGN_UNIQ).toBe(31)
    expect(PacketType.STATUS_RES_UNIQUE).toBe(42)
    const numbers = Object.values(PacketType)
    expect(new Set(numbers).size).toBe(numbers.length)
    expect([...numbers].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, ...Array.from({length: 37}, (_, i) => i + 6)])
  })

  it('knows the argument count of every type, data argument included', () => {
    expect(argumentCount(PacketType.NOOP)).toBe(0)
    expect(argumentCount(PacketType.WORK_COMPLETE)).toBe(2)
    expect(argumentCount(PacketType.JOB_ASSIGN_UNIQ)).toBe(4)
    expect(argumentCount(PacketType.SUBMIT_JOB_SCHED)).toBe(8)
    expect(argumentCount(PacketType.STATUS_RES)).toBe(5)
    expect(argumentCount(5)).toBeUndefined()
    expect(argumentCount(0)).toBeUndefined()
    expect(argumentCount(43)).toBeUndefined()
    for (const type of Object.values(PacketType)) expect(argumentCount(type)).toBeTypeOf('number')
    expect(packetTypeName(PacketType.GRAB_JOB_UNIQ)).toBe('GRAB_JOB_UNIQ')
  })
})

describe('encodePacket', () => {
  it('writes magic, type, size and NUL-separated arguments', () => {
    const packet = encodePacket({magic: 'REQ', type: PacketType.SUBMIT_JOB, args: ['fn', 'u', 'data']})
    expect(packet.subarray(0, 12)).toEqual(header('\0REQ', 7, 9))
    expect(packet.subarray(12).toString('latin1')).toBe('fn\0u\0data')
    expect(encodePacket({magic: 'RES', type: PacketType.NOOP, args: []})).toEqual(header('\0RES', 6, 0))
  })

  it('refuses a NUL inside a non-final argument, a wrong argument count, an unknown type', () => {
    expect(() => encodePacket({magic: 'REQ', type: PacketType.SUBMIT_JOB, args: ['f\0n', 'u', 'd']})).toThrow(GearmanProtocolError)
    expect(() => encodePacket({magic: 'REQ', type: PacketType.SUBMIT_JOB, args: ['fn', 'd']})).toThrow(GearmanProtocolError)
    expect(() => encodePacket({magic: 'REQ', type: 99, args: []})).toThrow(GearmanProtocolError)
  })
})

describe('PacketDecoder', () => {
  it('round-trips every packet type the worker and client use', () => {
    for (const sample of SAMPLES) {
      const [decoded, ...rest] = decodeAll([encodePacket(sample)])
      expect(rest).toEqual([])
      expect(decoded!.magic).toBe(sample.magic)
      expect(decoded!.type).toBe(sample.type)
      expect(decoded!.args).toEqual(sample.args.map((arg) => (typeof arg === 'string' ? Buffer.from(arg) : arg)))
    }
  })

  it('decodes every packet whatever byte the stream is split at', () => {
    const stream = Buffer.concat(SAMPLES.map(encodePacket))
    const whole = decodeAll([stream])
    expect(whole).toHaveLength(SAMPLES.length)
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(decodeAll([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(whole)
    }
  })

  it('decodes a stream fed one byte at a time', () => {
    const stream = Buffer.concat(SAMPLES.map(encodePacket))
    const bytes = Array.from(stream, (byte) => Buffer.from([byte]))
    expect(decodeAll(bytes)).toEqual(decodeAll([stream]))
  })

  it('returns many packets from one chunk, in order', () => {
    const packets = Array.from({length: 1000}, (_, i) =>
      encodePacket({magic: 'RES', type: PacketType.WORK_COMPLETE, args: [`H:x:${i}`, `result ${i}`]}),
    )
    const decoded = decodeAll([Buffer.concat(packets)])
    expect(decoded).toHaveLength(1000)
    expect(argsAsText(decoded[999]!)).toEqual(['H:x:999', 'result 999'])
    expect(decoded.map((packet) => argsAsText(packet)[0])).toEqual(packets.map((_, i) => `H:x:${i}`))
  })

  it('keeps a 1 MB+ payload of multi-byte UTF-8 intact across chunk boundaries', () => {
    const text = 'héllo wörld ✓ 负载均衡 🚀 '.repeat(40_000)
    const payload = Buffer.from(text, 'utf8')
    expect(payload.length).toBeGreaterThan(1024 * 1024)
    const stream = Buffer.concat([
      encodePacket({magic: 'RES', type: PacketType.JOB_ASSIGN_UNIQ, args: ['H:x:1', 'fn', 'u', payload]}),
      encodePacket({magic: 'RES', type: PacketType.NOOP, args: []}),
    ])
    // Chunk sizes chosen to cut through multi-byte characters (odd, prime sizes).
    const chunks: Buffer[] = []
    for (let offset = 0, size = 7; offset < stream.length; offset += size, size = (size * 31) % 65_521 || 13) {
      chunks.push(stream.subarray(offset, offset + size))
    }
    const decoded = decodeAll(chunks)
    expect(decoded).toHaveLength(2)
    expect(Buffer.isBuffer(decoded[0]!.args[3])).toBe(true)
    expect(decoded[0]!.args[3]!.equals(payload)).toBe(true)
    expect(decoded[0]!.args[3]!.toString('utf8')).toBe(text)
    expect(decoded[1]!.type).toBe(PacketType.NOOP)
  })

  it('rejects a bad magic as soon as its first byte arrives', () => {
    const decoder = new PacketDecoder()
    expect(() => decoder.push(Buffer.from('OK 1.1.20\n'))).toThrow(GearmanProtocolError)
    expect(() => new PacketDecoder().push(Buffer.from('\0XY'))).toThrow(/bad packet magic/)
    expect(() => new PacketDecoder().push(header('\0REX', 6, 0))).toThrow(GearmanProtocolError)
  })

  it('rejects a length above the cap before buffering the body', () => {
    const decoder = new PacketDecoder({maxPacketBytes: 1024})
    expect(decoder.push(encodePacket({magic: 'RES', type: PacketType.ECHO_RES, args: [Buffer.alloc(1024)]}))).toHaveLength(1)
    expect(() => decoder.push(header('\0RES', PacketType.ECHO_RES, 1025))).toThrow(/exceeds the limit/)
    expect(() => new PacketDecoder().push(header('\0RES', PacketType.ECHO_RES, 0xffff_ffff))).toThrow(GearmanProtocolError)
  })

  it('rejects unknown types and missing arguments', () => {
    expect(() => new PacketDecoder().push(header('\0RES', 5, 0))).toThrow(/unknown packet type 5/)
    expect(() => new PacketDecoder().push(header('\0RES', 1000, 0))).toThrow(GearmanProtocolError)
    const missing = Buffer.concat([header('\0RES', PacketType.JOB_ASSIGN_UNIQ, 5), Buffer.from('H:1\0f')])
    expect(() => new PacketDecoder().push(missing)).toThrow(/needs 4 arguments/)
    const bodyOnNoop = Buffer.concat([header('\0RES', PacketType.NOOP, 1), Buffer.from('x')])
    expect(() => new PacketDecoder().push(bodyOnNoop)).toThrow(GearmanProtocolError)
  })

  it('stays failed after garbage, with the same typed error', () => {
    const decoder = new PacketDecoder()
    let first: unknown
    try {
      decoder.push(Buffer.from('garbage'))
    } catch (error) {
      first = error
    }
    expect(first).toBeInstanceOf(GearmanProtocolError)
    expect((first as GearmanProtocolError).code).toBe('gearman_protocol')
    expect((first as GearmanProtocolError).exit).toBe(1)
    expect(() => decoder.push(encodePacket({magic: 'RES', type: PacketType.NOOP, args: []}))).toThrow(first as Error)
  })
})

describe('gearmand quirks', () => {
  it('drops the NUL gearmand leaves on a relayed WORK_FAIL handle, but keeps NULs in data', () => {
    const relayedFail = Buffer.concat([header('\0RES', PacketType.WORK_FAIL, 7), Buffer.from('H:vm:1\0')])
    expect(argsAsText(decodeAll([relayedFail])[0]!)).toEqual(['H:vm:1'])
    const dataEndingInNul = encodePacket({magic: 'RES', type: PacketType.WORK_COMPLETE, args: ['H:vm:1', Buffer.from('x\0')]})
    expect(decodeAll([dataEndingInNul])[0]!.args[1]).toEqual(Buffer.from('x\0'))
  })
})
