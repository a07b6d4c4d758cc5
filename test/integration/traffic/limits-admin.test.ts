/**
 * Issue 3: `connection_limit` enforced by the running HAProxy, admin-down pool and VIP as
 * SPEC §4.4 says (a disabled backend answers 503, a disabled frontend does not listen), and
 * SPEC §4.1/§4.4 hygiene on the host: run-dir modes and HAProxy workers that run as the
 * unprivileged account, not root.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Pool} from '../../../src/domain/types.js'
import type {PoolStatusTree} from '../../../src/service/status.js'
import {hold, send, tally, type HeldConnection} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('limits')
let lab: LabInfo
let poolId = ''
let vipAddress = ''

beforeAll(async () => {
  lab = await world.lab(2)
  poolId = (await world.pool('lim', 'HTTP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2]) await world.member(poolId, lab.backend(n).address)
  vipAddress = `${lab.base}.2`
  await world.vip(poolId, 'lim-vip', 'HTTP', 80, lab, vipAddress, ['--connection-limit', '2'])
})

afterAll(async () => {
  await world.cleanup()
})

function settled<T>(promise: Promise<T>): {done: () => boolean; promise: Promise<T>} {
  let done = false
  const tracked = promise.finally(() => (done = true))
  tracked.catch(() => undefined)
  return {done: () => done, promise: tracked}
}

describe('connection_limit', () => {
  it('holds a third connection until one of two open connections closes', async () => {
    expect(world.config(poolId)).toMatch(/\n {4}maxconn 2\n/)
    const held: HeldConnection[] = []
    try {
      held.push(await hold(vipAddress, 80), await hold(vipAddress, 80))
      await waitFor('HAProxy to count both connections', async () => {
        const frontend = (await world.stat(poolId)).frontends[0]
        return frontend.active_connections === 2 ? frontend : undefined
      })
      // The kernel completes the handshake, but HAProxy does not accept past the limit.
      const third = settled(send(vipAddress, 80, {timeoutMs: 20_000}))
      for (let i = 0; i < 10; i++) {
        await sleep(100)
        expect(third.done()).toBe(false)
      }
      held[0].close()
      const reply = await third.promise
      expect(reply.status).toBe(200)
    } finally {
      for (const connection of held) connection.close()
    }
  })

  it('lets the same load through once the limit is lifted', async () => {
    await world.cli.json(['vip', 'update', 'lim-vip', '--connection-limit', '-1', '--json'])
    const held: HeldConnection[] = []
    try {
      held.push(await hold(vipAddress, 80), await hold(vipAddress, 80))
      const reply = await send(vipAddress, 80, {timeoutMs: 5_000})
      expect(reply.status).toBe(200)
    } finally {
      for (const connection of held) connection.close()
    }
  })
})

describe('admin state', () => {
  it('an admin-down pool answers 503 (disabled backend) until it is up again', async () => {
    await world.cli.json(['pool', 'update', poolId, '--admin-state-up', 'false', '--json'])
    const down = await tally(vipAddress, 80, 10)
    expect(down.errors).toEqual([])
    expect(down.statuses).toEqual({503: 10})
    expect(down.backends).toEqual({'': 10})
    const [tree] = await world.cli.json<PoolStatusTree[]>(['status', poolId, '--json'])
    expect(tree.pool).toMatchObject({admin_state_up: false, status: 'ACTIVE', operating_status: 'OFFLINE'})

    await world.cli.json(['pool', 'update', poolId, '--admin-state-up', 'true', '--json'])
    const up = await tally(vipAddress, 80, 10)
    expect(up.ok).toBe(10)
  })

  it('an admin-down VIP stops listening (disabled frontend) until it is up again', async () => {
    await world.cli.json(['vip', 'update', 'lim-vip', '--admin-state-up', 'false', '--json'])
    // The replaced worker may hold the listener for a moment while it stops.
    const refused = await waitFor('the VIP to refuse connections', async () => {
      const result = await tally(vipAddress, 80, 1, {timeoutMs: 2_000})
      return result.errors.some((error) => error.includes('ECONNREFUSED')) ? result : undefined
    }, 10_000, 100)
    expect(refused.ok).toBe(0)
    const again = await tally(vipAddress, 80, 5, {timeoutMs: 2_000})
    expect(again.ok).toBe(0)
    expect(again.errors).toHaveLength(5)
    const [tree] = await world.cli.json<PoolStatusTree[]>(['status', poolId, '--json'])
    expect(tree.vip?.admin_state_up).toBe(false)
    expect(tree.pool.operating_status).toBe('OFFLINE')

    await world.cli.json(['vip', 'update', 'lim-vip', '--admin-state-up', 'true', '--json'])
    const up = await tally(vipAddress, 80, 10)
    expect(up.errors).toEqual([])
    expect(up.ok).toBe(10)
  })
})

describe('on the host', () => {
  it('keeps the run dir private: directories 0700, sockets, configuration and server state 0600', async () => {
    // A reload has happened (the updates above), so the server-state file was written by a save too.
    const paths = world.paths(poolId)
    const mode = (path: string) => statSync(path).mode & 0o777
    expect(mode(world.runDir)).toBe(0o700)
    expect(mode(paths.dir)).toBe(0o700)
    expect(statSync(paths.statsSocket).isSocket()).toBe(true)
    expect(mode(paths.statsSocket)).toBe(0o600)
    expect(mode(paths.masterSocket)).toBe(0o600)
    expect(mode(paths.config)).toBe(0o600)
    expect(mode(paths.serverState)).toBe(0o600)
    // Nothing else lbaas writes there is readable by others. (HAProxy itself writes its pid
    // file 0644; the 0700 directory keeps it private.)
    const entries = readdirSync(paths.dir).filter((entry) => entry !== 'haproxy.pid')
    expect(entries).toContain('haproxy.cfg.last-good')
    for (const entry of entries) expect({entry, mode: mode(`${paths.dir}/${entry}`) & 0o077}).toEqual({entry, mode: 0})
  })

  it('runs HAProxy workers as the unprivileged haproxy account, never as root', async () => {
    const account = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .find((fields) => fields[0] === 'haproxy')
    expect(account, 'the haproxy account (Debian package haproxy) exists').toBeDefined()
    const uid = Number(account![2])
    expect(uid).not.toBe(0)
    const proc = await world.proc(poolId)
    expect(proc.workers.length).toBeGreaterThanOrEqual(1)
    for (const worker of proc.workers) {
      const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8')
      const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!.slice(1).map(Number)
      expect(uids).toEqual([uid, uid, uid, uid])
    }
  })

  it('serves the VIP only from the pool namespace (lbaas-<pool id>)', async () => {
    const pool = await world.cli.json<Pool>(['pool', 'show', poolId, '--json'])
    const proc = await world.proc(pool.id)
    const namespaceOf = (pid: number) => readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
    // The worker's own view of TCP sockets lists the VIP listener; the root namespace's does not.
    const vipHex = vipAddress.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0').toUpperCase()).reverse().join('')
    const listener = `${vipHex}:0050`
    expect(namespaceOf(proc.workers[0].pid)).toContain(listener)
    expect(readFileSync('/proc/self/net/tcp', 'utf8')).not.toMatch(new RegExp(`${listener} 00000000:0000 0A`))
  })
})
