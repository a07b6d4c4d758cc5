/**
 * SPEC §10 / issue 14: `vip create --syslog ADDR` sends each access-log line to a syslog
 * server too (RFC 5424 over UDP), and `vip logs` still shows it from the ring.
 *
 * HAProxy runs inside the pool's namespace, where 127.0.0.1 is the namespace's own
 * loopback; the test's syslog server is a node:dgram socket on the lab bridge's gateway
 * address (the host side of the subnet this test created).
 */
import {createSocket, type Socket} from 'node:dgram'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {parseAccessLogLine, type AccessLogEntry} from '../../../src/haproxy/access-log.js'
import type {VipLogEntry} from '../../../src/service/access-log.js'
import type {Vip} from '../../../src/domain/types.js'
import {send} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('vsyslog')
let lab: LabInfo
let server: Socket
let syslogPort = 0
const datagrams: string[] = []
const vipAddress = () => `${lab.base}.2`

// <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
const RFC5424 = /^<(\d{1,3})>1 \S+ \S+ \S+ \S+ \S+ (?:-|\[.*?\]) (.*)$/s

function received(): AccessLogEntry[] {
  return datagrams.flatMap((text) => {
    const match = RFC5424.exec(text)
    return match ? [parseAccessLogLine(match[2].trimEnd())] : []
  })
}

beforeAll(async () => {
  lab = await world.lab(2)
  server = createSocket('udp4')
  server.on('message', (message) => datagrams.push(message.toString('utf8')))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.bind(0, `${lab.base}.1`, () => resolve())
  })
  syslogPort = server.address().port
  const pool = await world.pool('syslogged', 'HTTP', 'ROUND_ROBIN', lab)
  for (const n of [1, 2]) await world.member(pool.id, lab.backend(n).address)
}, 60_000)

afterAll(async () => {
  server?.close()
  await world.cleanup()
})

describe('vip --syslog', () => {
  it('sends one RFC 5424 datagram per request, with its status, and the ring still has them', async () => {
    const vip = await world.vip('syslogged', 'syslogged-vip', 'HTTP', 80, lab, vipAddress(), ['--syslog', `${lab.base}.1:${syslogPort}`])
    expect(vip).toMatchObject({syslog: `${lab.base}.1:${syslogPort}`, status: 'ACTIVE'})

    // The first connection may race the new HAProxy's listener on a loaded host (bounded retry).
    await waitFor('the VIP answering', async () => (await send(vipAddress(), 80, {path: '/warm-up'}).catch(() => undefined))?.status, 15_000)
    const statuses = new Map<string, number>()
    for (let i = 0; i < 5; i++) {
      const path = `/sys-${world.suffix}-${i}`
      statuses.set(`GET ${path} HTTP/1.1`, (await send(vipAddress(), 80, {path})).status)
    }
    const missing = await send(vipAddress(), 80, {path: `/sys-${world.suffix}-gone`, method: 'DELETE'})
    statuses.set(`DELETE /sys-${world.suffix}-gone HTTP/1.1`, missing.status)

    const ours = <T extends {request: string | null}>(entries: T[]): T[] => entries.filter((entry) => entry.request !== null && statuses.has(entry.request))
    const viaSyslog = await waitFor('a datagram for each request', async () => (ours(received()).length >= statuses.size ? ours(received()) : undefined), 15_000)
    expect(statuses.size).toBe(6)
    for (const [request, status] of statuses) {
      expect(status).toBeGreaterThanOrEqual(200)
      const matching = viaSyslog.filter((entry) => entry.request === request)
      expect(matching).toHaveLength(1)
      expect(matching[0].status).toBe(status)
    }
    // local0 (facility 16), severity info (6): PRI 134.
    const first = datagrams.find((text) => text.includes(`/sys-${world.suffix}-0 `))!
    expect(RFC5424.exec(first)?.[1]).toBe('134')

    const text = await world.cli.value(['vip', 'logs', 'syslogged-vip', '--json'])
    const fromRing = ours(text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as VipLogEntry))
    expect(fromRing.map((entry) => [entry.request, entry.status]).sort()).toEqual(viaSyslog.map((entry) => [entry.request, entry.status]).sort())
  })

  it('an update that does not mention it keeps it; --syslog none stops the datagrams; a host name is refused', async () => {
    const kept = await world.cli.json<Vip>(['vip', 'update', 'syslogged-vip', '--connection-limit', '500', '--json'])
    expect(kept.syslog).toBe(`${lab.base}.1:${syslogPort}`)

    const refused = await world.cli.run(['vip', 'update', 'syslogged-vip', '--syslog', 'logs.example:514', '--json'])
    expect(refused.exitCode).toBe(2)
    expect(refused.stdout + refused.stderr).toContain('syslog')

    const cleared = await world.cli.json<Vip>(['vip', 'update', 'syslogged-vip', '--syslog', 'none', '--json'])
    expect(cleared.syslog).toBeNull()
    const path = `/after-none-${world.suffix}`
    expect((await send(vipAddress(), 80, {path})).status).toBe(200)
    // Once the ring has the line, HAProxy has also sent whatever it sends for it.
    await waitFor('the request in the ring', async () => ((await world.cli.value(['vip', 'logs', 'syslogged-vip'])).includes(path) ? true : undefined), 15_000)
    expect(datagrams.some((text) => text.includes(path))).toBe(false)
  })
})
