/**
 * Issue 3: how real HAProxy spreads real requests sent from the root namespace to a VIP
 * deployed by the CLI: round robin, weights (applied through the runtime API, no reload),
 * admin-down members, LEAST_CONNECTIONS, SOURCE_IP and both cookie persistence types, and
 * SPEC §4.3 step 8 (a byte-identical configuration is not reloaded).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Member, Vip} from '../../../src/domain/types.js'
import {backendsSeen, CookieJar, hold, keepAliveAgent, send, tally, type HeldConnection} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo, type RecordingBackend} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('balance')
let lab: LabInfo
let poolId = ''
let members: Member[] = []
let vipAddress = ''

/** Master reload count and current worker PIDs: equal before and after means "not reloaded". */
async function generation(id: string): Promise<{reloads: number; workers: number[]}> {
  const proc = await world.proc(id)
  return {reloads: proc.master.reloads, workers: proc.workers.map((worker) => worker.pid)}
}

async function setWeights(weights: number[]): Promise<void> {
  for (const [index, weight] of weights.entries()) {
    await world.cli.json(['member', 'update', members[index].id, '--weight', String(weight), '--json'])
  }
}

beforeAll(async () => {
  lab = await world.lab(3)
  poolId = (await world.pool('rr', 'HTTP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2, 3]) members.push(await world.member(poolId, lab.backend(n).address))
  vipAddress = `${lab.base}.2`
  await world.vip(poolId, 'rr-vip', 'HTTP', 80, lab, vipAddress)
})

afterAll(async () => {
  await world.cleanup()
})

describe('an HTTP pool behind its VIP', () => {
  it('round robin spreads new connections and keep-alive requests evenly', async () => {
    const perConnection = await tally(vipAddress, 80, 60)
    expect(perConnection.errors).toEqual([])
    expect(perConnection.ok).toBe(60)
    expect(backendsSeen(perConnection).sort()).toEqual([1, 2, 3].map((n) => lab.backend(n).name).sort())
    for (const n of [1, 2, 3]) expect(perConnection.backends[lab.backend(n).name]).toBeGreaterThanOrEqual(15)

    // HTTP mode balances every request, also on one reused client connection.
    const agent = keepAliveAgent()
    try {
      const reused = await tally(vipAddress, 80, 30, {agent})
      expect(reused.errors).toEqual([])
      expect(reused.ok).toBe(30)
      for (const n of [1, 2, 3]) expect(reused.backends[lab.backend(n).name]).toBeGreaterThanOrEqual(6)
    } finally {
      agent.destroy()
    }
  })

  it('does not reload for a change that renders the same configuration (names, descriptions)', async () => {
    const before = await generation(poolId)
    const config = world.config(poolId)
    await world.cli.json(['pool', 'update', poolId, '--name', 'rr renamed', '--description', 'spread it', '--json'])
    await world.cli.json(['vip', 'update', 'rr-vip', '--name', 'rr-vip-2', '--description', 'front door', '--json'])
    expect(await generation(poolId)).toEqual(before)
    expect(world.config(poolId)).toBe(config)
    const pool = await world.cli.json<{name: string; status: string}>(['pool', 'show', poolId, '--json'])
    expect(pool).toMatchObject({name: 'rr renamed', status: 'ACTIVE'})
  })

  it('splits new requests 1:3 by weight, sends nothing to weight 0, and applies weights without a reload', async () => {
    const before = await generation(poolId)
    await setWeights([1, 3, 0])
    expect(await generation(poolId)).toEqual(before)
    // The file says the same as the running HAProxy, so a later reload keeps the weights.
    const config = world.config(poolId)
    expect(config).toMatch(new RegExp(`server ${members[1].id} \\S+ weight 3\\b`))
    expect(config).toMatch(new RegExp(`server ${members[2].id} \\S+ weight 0\\b`))

    const result = await tally(vipAddress, 80, 80)
    expect(result.errors).toEqual([])
    expect(result.ok).toBe(80)
    expect(result.backends[lab.backend(3).name] ?? 0).toBe(0)
    expect(result.backends[lab.backend(1).name]).toBeGreaterThanOrEqual(12)
    expect(result.backends[lab.backend(1).name]).toBeLessThanOrEqual(28)
    expect(result.backends[lab.backend(2).name]).toBeGreaterThanOrEqual(52)
    expect(result.backends[lab.backend(2).name]).toBeLessThanOrEqual(68)

    const listed = await world.cli.json<Member[]>(['member', 'list', '--pool', poolId, '--json'])
    expect(listed.map((member) => member.weight)).toEqual([1, 3, 0])
    await setWeights([1, 1, 1])
    expect(await generation(poolId)).toEqual(before)
  })

  it('takes an admin-down member out of rotation through the runtime API and reports it', async () => {
    const before = await generation(poolId)
    await world.cli.json(['member', 'update', members[0].id, '--admin-state-up', 'false', '--json'])
    expect(await generation(poolId)).toEqual(before)
    expect(world.config(poolId)).toMatch(new RegExp(`server ${members[0].id} .* disabled`))

    const down = await tally(vipAddress, 80, 30)
    expect(down.errors).toEqual([])
    expect(down.ok).toBe(30)
    expect(down.backends[lab.backend(1).name] ?? 0).toBe(0)
    const listed = await world.cli.json<Member[]>(['member', 'list', '--pool', poolId, '--json'])
    expect(listed[0]).toMatchObject({admin_state_up: false, status: 'INACTIVE', operating_status: 'OFFLINE'})
    expect(listed[1]).toMatchObject({admin_state_up: true, status: 'ACTIVE'})

    await world.cli.json(['member', 'update', members[0].id, '--admin-state-up', 'true', '--json'])
    expect(await generation(poolId)).toEqual(before)
    const up = await tally(vipAddress, 80, 30)
    expect(up.ok).toBe(30)
    expect(up.backends[lab.backend(1).name]).toBeGreaterThanOrEqual(5)
    const again = await world.cli.json<Member[]>(['member', 'list', '--pool', poolId, '--json'])
    expect(again[0]).toMatchObject({admin_state_up: true, status: 'ACTIVE'})
  })

  it('SOURCE_IP persistence and the SOURCE_IP method keep one client on one member', async () => {
    const before = await generation(poolId)
    await world.cli.json(['vip', 'update', 'rr-vip-2', '--session-persistence', 'SOURCE_IP', '--json'])
    // A rendered change is a reload (the counterpart of the byte-identical test above).
    expect((await generation(poolId)).reloads).toBe(before.reloads + 1)
    const sticky = await tally(vipAddress, 80, 30)
    expect(sticky.errors).toEqual([])
    expect(sticky.ok).toBe(30)
    expect(backendsSeen(sticky)).toHaveLength(1)

    // An update that does not mention persistence keeps it (Neutron v1 wiped it).
    const updated = await world.cli.json<Vip>(['vip', 'update', 'rr-vip-2', '--connection-limit', '1000', '--json'])
    expect(updated.session_persistence).toEqual({type: 'SOURCE_IP'})
    const still = await tally(vipAddress, 80, 20)
    expect(still.ok).toBe(20)
    expect(backendsSeen(still)).toEqual(backendsSeen(sticky))

    await world.cli.json(['vip', 'update', 'rr-vip-2', '--session-persistence', 'none', '--json'])
    await world.cli.json(['pool', 'update', poolId, '--lb-method', 'SOURCE_IP', '--json'])
    const hashed = await tally(vipAddress, 80, 30)
    expect(hashed.ok).toBe(30)
    expect(backendsSeen(hashed)).toHaveLength(1)

    await world.cli.json(['pool', 'update', poolId, '--lb-method', 'ROUND_ROBIN', '--json'])
    const spread = await tally(vipAddress, 80, 30)
    expect(backendsSeen(spread)).toHaveLength(3)
  })

  it('HTTP_COOKIE persistence inserts a cookie naming the member and keeps the client on it', async () => {
    await world.cli.json(['vip', 'update', 'rr-vip-2', '--session-persistence', 'HTTP_COOKIE', '--json'])
    const addressOf = new Map(members.map((member) => [member.id, member.address]))
    const sessions = new Map<string, CookieJar>()
    // New clients are still spread; each gets a cookie with its member's id.
    for (let i = 0; i < 6 && sessions.size < 2; i++) {
      const first = await send(vipAddress, 80)
      expect(first.status).toBe(200)
      const jar = new CookieJar()
      jar.take(first)
      const id = jar.cookies.get('SRV')
      expect(id && addressOf.get(id)).toBe(lab.backend(Number(first.backend.split('-').at(-1))).address)
      if (!sessions.has(first.backend)) sessions.set(first.backend, jar)
    }
    expect(sessions.size).toBe(2)
    for (const [backend, jar] of sessions) {
      const result = await tally(vipAddress, 80, 15, {headers: jar.header()})
      expect(result.errors).toEqual([])
      expect(result.backends).toEqual({[backend]: 15})
    }
    await world.cli.json(['vip', 'update', 'rr-vip-2', '--session-persistence', 'none', '--json'])
  })
})

describe('LEAST_CONNECTIONS on a TCP pool', () => {
  it('sends new connections to the idle member while another holds connections', async () => {
    const pool = await world.pool('lc', 'TCP', 'LEAST_CONNECTIONS', lab)
    const busy = await world.member(pool.id, lab.backend(1).address)
    const idle = await world.member(pool.id, lab.backend(2).address, ['--admin-state-down'])
    await world.vip(pool.id, 'lc-vip', 'TCP', 8080, lab, `${lab.base}.3`)
    const held: HeldConnection[] = []
    try {
      // Only the busy member is up: three connections stay open on it, each with a request begun.
      for (let i = 0; i < 3; i++) held.push(await hold(`${lab.base}.3`, 8080, 'GET / HTTP/1.1\r\nHost: lab\r\n'))
      await waitFor('HAProxy to count three connections on the busy member', async () => {
        const server = (await world.stat(pool.id)).servers.find((candidate) => candidate.name === busy.id)
        return server?.active_connections === 3 ? server : undefined
      }, 5_000, 50)

      await world.cli.json(['member', 'update', idle.id, '--admin-state-up', 'true', '--json'])
      const result = await tally(`${lab.base}.3`, 8080, 12)
      expect(result.errors).toEqual([])
      expect(result.backends).toEqual({[lab.backend(2).name]: 12})
    } finally {
      for (const connection of held) connection.close()
    }
    // With the held connections gone both members take new connections again.
    const after = await tally(`${lab.base}.3`, 8080, 12)
    expect(backendsSeen(after).sort()).toEqual([lab.backend(1).name, lab.backend(2).name].sort())
  })
})

describe('APP_COOKIE persistence', () => {
  it("learns the application's session cookie (a name with token punctuation) and keeps each session on its member", async () => {
    const recorders: RecordingBackend[] = [await world.recorder(lab, 1), await world.recorder(lab, 2)]
    // Token characters HAProxy's parsers treat specially: `#` (comment), `'` (quote), `$` (variables).
    const cookie = "sess#'$id"
    for (const recorder of recorders) recorder.setCookieName(cookie)
    const pool = await world.pool('app', 'HTTP', 'ROUND_ROBIN', lab)
    for (const recorder of recorders) await world.member(pool.id, recorder.address)
    await world.vip(pool.id, 'app-vip', 'HTTP', 80, lab, `${lab.base}.4`, ['--session-persistence', `APP_COOKIE:${cookie}`])

    const sessions = new Map<string, CookieJar>()
    for (let i = 0; i < 6 && sessions.size < 2; i++) {
      const first = await send(`${lab.base}.4`, 80)
      expect(first.status).toBe(200)
      const jar = new CookieJar()
      jar.take(first)
      expect(jar.cookies.get(cookie)).toMatch(new RegExp(`^${first.backend}\\.\\d+$`))
      if (!sessions.has(first.backend)) sessions.set(first.backend, jar)
    }
    expect([...sessions.keys()].sort()).toEqual(['rec-1', 'rec-2'])
    for (const [backend, jar] of sessions) {
      const result = await tally(`${lab.base}.4`, 80, 15, {headers: jar.header()})
      expect(result.errors).toEqual([])
      expect(result.backends).toEqual({[backend]: 15})
    }
    // Without the cookie, round robin goes on.
    const anonymous = await tally(`${lab.base}.4`, 80, 10)
    expect(backendsSeen(anonymous).sort()).toEqual(['rec-1', 'rec-2'])
  })
})
