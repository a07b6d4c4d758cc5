/**
 * `lbaas pool stats POOL --watch`: a table of the pool's members redrawn in place every
 * interval on a terminal (status, sessions, bytes, requests/s), until Ctrl-C. Off a
 * terminal each reading is printed below the last; with --json one JSON line per reading.
 */
import type {PoolTrafficSample} from '../service/pool-traffic.js'
import {formatList} from './format.js'

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function humanBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`
}

/**
 * Requests per second of each member between two readings. HAProxy counts a session per
 * request it sends to a server; after a reload its counters restart, and a member whose
 * count went down is shown from zero.
 */
export function requestRates(previous: PoolTrafficSample | undefined, current: PoolTrafficSample): Map<string, number | undefined> {
  const rates = new Map<string, number | undefined>()
  const seconds = previous ? (current.taken_at - previous.taken_at) / 1000 : 0
  for (const member of current.members) {
    const before = previous?.members.find((candidate) => candidate.id === member.id)
    if (!before || seconds <= 0 || !current.live || !previous?.live) rates.set(member.id, undefined)
    else rates.set(member.id, Math.max(0, member.total_connections - before.total_connections) / seconds)
  }
  return rates
}

export interface FrameOptions {
  intervalSeconds: number
  color: boolean
  /** Wall-clock time shown in the header. */
  now: Date
}

export async function renderFrame(previous: PoolTrafficSample | undefined, sample: PoolTrafficSample, options: FrameOptions): Promise<string> {
  const paint = (code: string, text: string) => (options.color ? `\u001B[${code}m${text}\u001B[0m` : text)
  const statusColor = (status: string) => (status === 'ONLINE' ? '32' : status === 'OFFLINE' || status === 'ERROR' ? '31' : '33')
  const rates = requestRates(previous, sample)
  const {pool, vip} = sample
  const where = vip ? `VIP ${vip.address}:${vip.protocol_port}` : 'no VIP (not deployed)'
  const clock = options.now.toTimeString().slice(0, 8)
  const header =
    `pool ${pool.name} (${pool.protocol} ${pool.lb_method})  ${paint(statusColor(pool.operating_status), pool.operating_status)}  ${where}` +
    `   every ${options.intervalSeconds} s, Ctrl-C to stop   ${clock}\n`
  if (sample.members.length === 0) return `${header}no members yet; add one with \`lbaas member create ${pool.name}\`\n`
  const rows = sample.members.map((member) => {
    const rate = rates.get(member.id)
    return {
      member: member.id.slice(0, 8),
      address: `${member.address}:${member.protocol_port}`,
      weight: member.admin_state_up ? member.weight : `${member.weight} (admin down)`,
      status: paint(statusColor(member.operating_status), member.operating_status),
      check: member.health,
      sessions: member.active_connections,
      'bytes in': humanBytes(member.bytes_in),
      'bytes out': humanBytes(member.bytes_out),
      'req/s': rate === undefined ? '-' : rate.toFixed(1),
    }
  })
  const columns = ['member', 'address', 'weight', 'status', 'check', 'sessions', 'bytes in', 'bytes out', 'req/s']
  const table = await formatList(rows, columns, {format: 'table', columns: [], color: options.color})
  const note = sample.live ? '' : 'HAProxy is not answering: health is the last known, counters are unavailable\n'
  return `${header}${table}${note}`
}

export interface WatchOptions {
  sample: () => Promise<PoolTrafficSample>
  intervalSeconds: number
  /** Redraw in place (a terminal) or print each reading below the last. */
  mode: 'terminal' | 'lines' | 'json'
  color: boolean
  write?: (text: string) => void
}

/** Runs until SIGINT or SIGTERM; resolves then (the operator asked it to stop: exit 0). */
export async function watchPool(options: WatchOptions): Promise<void> {
  const write = options.write ?? ((text: string) => process.stdout.write(text))
  let stopped = false
  let wake: (() => void) | undefined
  const stop = () => {
    stopped = true
    wake?.()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  let previous: PoolTrafficSample | undefined
  // As watch(1) does: clear once, then redraw from the top-left corner, so wrapped lines on a
  // narrow terminal cannot leave parts of an old frame behind. The cursor stays hidden meanwhile.
  if (options.mode === 'terminal') write('\u001B[?25l\u001B[2J')
  try {
    while (!stopped) {
      const sample = await options.sample()
      if (stopped) break
      if (options.mode === 'json') write(`${JSON.stringify(sample)}\n`)
      else {
        const frame = await renderFrame(previous, sample, {intervalSeconds: options.intervalSeconds, color: options.color, now: new Date()})
        if (options.mode === 'terminal') write(`\u001B[H${frame.replaceAll('\n', '\u001B[K\n')}\u001B[J`)
        else write(`${frame}\n`)
      }
      previous = sample
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalSeconds * 1000)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    // The cursor back, on a line of its own below the last frame (after the echoed ^C).
    if (options.mode === 'terminal') write('\u001B[?25h\n')
  }
}
