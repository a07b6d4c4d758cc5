/**
 * Issue 14 / SPEC §10: `lbaas vip logs` reads the access log HAProxy keeps in its in-memory
 * ring (no syslog daemon): one HTTP-format line per request with its status and the member
 * that answered, TCP-format lines for a TCP VIP, `-n`, `--json`, and `--follow` printing a
 * request made after it started (across a reload too) until SIGTERM ends it with exit 0.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {VipLogEntry} from '../../../src/service/access-log.js'
import {BIN} from '../../helpers/cli.js'
import {send, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('vlogs')
let lab: LabInfo
const httpVip = () => `${lab.base}.2`
const tcpVip = () => `${lab.base}.3`
const children: ChildProcess[] = []
const memberOf = new Map<string, string>()

async function logs(vip: string, ...flags: string[]): Promise<VipLogEntry[]> {
  const text = await world.cli.value(['vip', 'logs', vip, '--json', ...flags])
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as VipLogEntry)
}

beforeAll(async () => {
  lab = await world.lab(2)
  for (const n of [1, 2]) memberOf.set(lab.backend(n).name, `${lab.backend(n).address}:8000`)
  const web = await world.pool('logged', 'HTTP', 'ROUND_ROBIN', lab)
  const raw = await world.pool('logged-tcp', 'TCP', 'ROUND_ROBIN', lab)
  for (const n of [1, 2]) {
    await world.member(web.id, lab.backend(n).address)
    await world.member(raw.id, lab.backend(n).address)
  }
  await world.vip(web.id, 'logged-vip', 'HTTP', 80, lab, httpVip())
  await world.vip(raw.id, 'logged-tcp-vip', 'TCP', 9000, lab, tcpVip())
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await world.cleanup()
})

describe('lbaas vip logs', () => {
  it('one HTTP log line per request, with its status and the member that answered', async () => {
    const answered = new Map<string, string>()
    for (let i = 0; i < 12; i++) {
      const path = `/req-${world.suffix}-${i}`
      const reply = await send(httpVip(), 80, {path})
      expect(reply.status).toBe(200)
      answered.set(path, memberOf.get(reply.backend)!)
    }
    const missing = await send(httpVip(), 80, {path: `/missing-${world.suffix}`, method: 'DELETE'})
    const entries = await waitFor('every request in the log', async () => {
      const all = await logs('logged-vip')
      return all.filter((entry) => entry.request?.includes(world.suffix)).length >= 13 ? all : undefined
    }, 10_000)
    for (const [path, member] of answered) {
      const matching = entries.filter((entry) => entry.request === `GET ${path} HTTP/1.1`)
      expect(matching).toHaveLength(1)
      expect(matching[0]).toMatchObject({status: 200, member, termination_state: '----'})
      expect(matching[0].time).toMatch(/^\d{4}-\d\d-\d\dT/)
      expect(matching[0].bytes).toBeGreaterThan(0)
    }
    const deleted = entries.find((entry) => entry.request?.startsWith(`DELETE /missing-${world.suffix}`))
    expect(deleted?.status).toBe(missing.status)

    const last = await logs('logged-vip', '-n', '3')
    expect(last).toEqual(entries.slice(-3))
    const text = await world.cli.value(['vip', 'logs', 'logged-vip', '-n', '1'])
    expect(text).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ [\\d.]+:\\d+ \\[[^\\]]+\\] \\S+ \\S+/\\S+ [\\d/+-]+ ${deleted?.status} .*"DELETE /missing-${world.suffix} HTTP/1.1"$`))
  })

  it('TCP VIPs log in the TCP log format', async () => {
    expect((await tally(tcpVip(), 9000, 3)).ok).toBe(3)
    const entries = await waitFor('three TCP lines', async () => {
      const all = await logs('logged-tcp-vip')
      return all.length >= 3 ? all : undefined
    }, 10_000)
    for (const entry of entries.slice(-3)) {
      expect(entry.status).toBeNull()
      expect(entry.request).toBeNull()
      expect([...memberOf.values()]).toContain(entry.member)
      expect(entry.bytes).toBeGreaterThan(0)
    }
  })

  it('--follow prints a request made after it started, also after a reload; SIGTERM ends it with exit 0', async () => {
    const child = spawn(process.execPath, [BIN, 'vip', 'logs', 'logged-vip', '--follow', '--json', '-n', '0'], {
      env: {...process.env, ...world.cli.env, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let stdout = ''
    child.stdout!.on('data', (chunk) => (stdout += chunk))
    const seen = (path: string) => stdout.split('\n').some((line) => line !== '' && (JSON.parse(line) as VipLogEntry).request === `GET ${path} HTTP/1.1`)

    // The follower connects in the background: keep asking (bounded) until a request shows up.
    const first = `/follow-${world.suffix}`
    await waitFor('the followed request', async () => {
      await send(httpVip(), 80, {path: first})
      return seen(first) ? true : undefined
    }, 20_000, 300)
    // Once following, a new request appears promptly (bounded wait; figures are in BENCHMARKS.md).
    const second = `/follow2-${world.suffix}`
    await send(httpVip(), 80, {path: second})
    await waitFor('the second request', async () => (seen(second) ? true : undefined), 5_000, 50)

    await world.cli.json(['pool', 'update', 'logged', '--lb-method', 'LEAST_CONNECTIONS', '--json'])
    const third = `/after-reload-${world.suffix}`
    await waitFor('a request after the reload', async () => {
      await send(httpVip(), 80, {path: third})
      return seen(third) ? true : undefined
    }, 20_000, 300)

    child.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)))
    expect(code).toBe(0)
  })

  it('an unknown VIP is exit 5', async () => {
    const result = await world.cli.run(['vip', 'logs', 'no-such-vip', '--json'])
    expect(result.exitCode).toBe(5)
  })
})
