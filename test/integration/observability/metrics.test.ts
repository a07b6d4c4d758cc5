/**
 * Issue 14 / SPEC §10: `lbaas metrics` through real HAProxy. Counters equal `pool stats`
 * and never go backwards across a reload and a restart (HAProxy killed, `sync` starts it
 * again); a pool whose HAProxy is gone is `lbaas_pool_up 0`, not a failed scrape; scrapes
 * of `metrics serve` while the pool reloads all answer; `promtool check metrics` passes;
 * the textfile is written; a port in use is exit 4 and SIGTERM ends serve with exit 0.
 * A scrape takes no pool lock and writes nothing: it answers with live figures while this
 * process holds the pool lock, and leaves the state file as it was.
 */
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {createServer} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PoolStats} from '../../../src/domain/types.js'
import {withPoolLock} from '../../../src/host/lock.js'
import {BIN} from '../../helpers/cli.js'
import {killPoolHaproxy} from '../../helpers/pool-crash.js'
import {tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('metrics')
let lab: LabInfo
let poolId = ''
const vipAddress = () => `${lab.base}.2`
const children: ChildProcess[] = []

type Samples = Map<string, number>

/** `name{labels} value` lines, keyed by `name{labels}` as printed. */
function parse(text: string): Samples {
  const samples: Samples = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

function sample(samples: Samples, name: string): number {
  const key = [...samples.keys()].find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(`pool_id="${poolId}"`))
  if (key === undefined) throw new Error(`no ${name} for pool ${poolId}`)
  return samples.get(key)!
}

function countersOf(samples: Samples) {
  return {
    bytes_in: sample(samples, 'lbaas_pool_in_bytes_total'),
    bytes_out: sample(samples, 'lbaas_pool_out_bytes_total'),
    total_connections: sample(samples, 'lbaas_pool_connections_total'),
  }
}

async function metrics(): Promise<{text: string; samples: Samples}> {
  const text = await world.cli.value(['metrics'])
  return {text: `${text}\n`, samples: parse(text)}
}

function promtool(text: string): Promise<{code: number; output: string}> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], {timeout: 30_000}, (error, stdout, stderr) =>
      resolve({code: error ? ((error as {code?: number}).code ?? 1) : 0, output: stdout + stderr}),
    )
    child.stdin!.end(text)
  })
}

function stats(): Promise<PoolStats> {
  return world.cli.json<PoolStats>(['pool', 'stats', poolId, '--json'])
}

function expectNotBackwards(before: ReturnType<typeof countersOf>, after: ReturnType<typeof countersOf>) {
  expect(after.bytes_in).toBeGreaterThanOrEqual(before.bytes_in)
  expect(after.bytes_out).toBeGreaterThanOrEqual(before.bytes_out)
  expect(after.total_connections).toBeGreaterThanOrEqual(before.total_connections)
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

function startServe(port: number): Promise<{child: ChildProcess; stderr: () => string}> {
  const child = spawn(process.execPath, [BIN, 'metrics', 'serve', '--listen', `127.0.0.1:${port}`], {
    env: {...process.env, ...world.cli.env, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  return waitFor('metrics serve to listen', async () => (stderr.includes('serving metrics on') ? {child, stderr: () => stderr} : undefined), 30_000, 100)
}

async function scrape(port: number): Promise<{status: number; body: string}> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, {signal: AbortSignal.timeout(60_000)})
  return {status: response.status, body: await response.text()}
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)))

beforeAll(async () => {
  lab = await world.lab(2)
  poolId = (await world.pool('metered', 'HTTP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2]) await world.member(poolId, lab.backend(n).address)
  await world.vip(poolId, 'metered-vip', 'HTTP', 80, lab, vipAddress())
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await world.cleanup()
})

describe('lbaas metrics', () => {
  it('after traffic: the families with their labels, equal to pool stats, and promtool accepts them', async () => {
    expect((await tally(vipAddress(), 80, 20)).ok).toBe(20)
    const {text, samples} = await metrics()
    const shown = await stats()
    expect(countersOf(samples)).toEqual({bytes_in: shown.bytes_in, bytes_out: shown.bytes_out, total_connections: shown.total_connections})
    expect(shown.total_connections).toBeGreaterThanOrEqual(20)
    expect(sample(samples, 'lbaas_pool_up')).toBe(1)
    expect(samples.get(`lbaas_pool_up{pool="metered",pool_id="${poolId}",vip="metered-vip"}`)).toBe(1)
    expect(samples.get(`lbaas_pool_status{pool="metered",pool_id="${poolId}",vip="metered-vip",status="ACTIVE"}`)).toBe(1)
    expect(samples.get(`lbaas_pool_status{pool="metered",pool_id="${poolId}",vip="metered-vip",status="ERROR"}`)).toBe(0)
    const members = [...samples.keys()].filter((key) => key.startsWith('lbaas_member_up{'))
    expect(members.map((key) => /address="([^"]+)"/.exec(key)![1]).sort()).toEqual([lab.backend(1).address, lab.backend(2).address].sort())
    for (const key of members) expect(samples.get(key)).toBe(1)
    for (const key of [...samples.keys()].filter((candidate) => candidate.startsWith('lbaas_member_weight{'))) expect(samples.get(key)).toBe(1)
    expect(text).toMatch(/^# TYPE lbaas_pool_connections_total counter$/m)
    expect(text).toMatch(/^# TYPE lbaas_member_current_sessions gauge$/m)
    expect(text).toMatch(/^# TYPE lbaas_member_failed_checks gauge$/m)
    expect(text).toMatch(/^# TYPE lbaas_certificate_expiry_seconds gauge$/m)
    const checked = await promtool(text)
    expect(checked, checked.output).toEqual({code: 0, output: ''})
  })

  it('answers with live figures while another process holds the pool lock, and leaves the state file as it was', async () => {
    const state = world.cli.statePath
    const files = () => [state, `${state}-wal`].map((path) => (existsSync(path) ? {path, mtimeMs: statSync(path).mtimeMs, bytes: readFileSync(path)} : {path}))
    const recorded = await stats()
    await withPoolLock(world.runDir, poolId, async () => {
      expect((await tally(vipAddress(), 80, 5)).ok).toBe(5)
      const before = files()
      // A reader that took the lock would wait here until the lock wait gives up (30 s) and then show stored figures, up 0.
      const result = await world.cli.run(['metrics'])
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.stderr).toBe('')
      const samples = parse(result.stdout)
      expect(sample(samples, 'lbaas_pool_up')).toBe(1)
      expect(countersOf(samples).total_connections).toBeGreaterThanOrEqual(recorded.total_connections + 5)
      expect(files()).toEqual(before)
    })
    // `pool stats` records what the scrape only read: the same figures.
    const shown = await stats()
    expect(shown.total_connections).toBeGreaterThanOrEqual(recorded.total_connections + 5)
  })

  it('never goes backwards across a reload, and still equals pool stats', async () => {
    const before = countersOf((await metrics()).samples)
    const workerBefore = (await world.proc(poolId)).workers[0].pid
    await world.cli.json(['pool', 'update', poolId, '--lb-method', 'LEAST_CONNECTIONS', '--json'])
    // A reload: a new worker whose own counters start again at 0.
    expect((await world.proc(poolId)).workers[0].pid).not.toBe(workerBefore)
    expect((await tally(vipAddress(), 80, 10)).ok).toBe(10)
    const after = countersOf((await metrics()).samples)
    expectNotBackwards(before, after)
    expect(after.total_connections).toBeGreaterThanOrEqual(before.total_connections + 10)
    const shown = await stats()
    expect(after).toEqual({bytes_in: shown.bytes_in, bytes_out: shown.bytes_out, total_connections: shown.total_connections})
  })

  it('HAProxy gone: lbaas_pool_up 0 with the stored totals; after sync restarts it the totals go on from there', async () => {
    const before = countersOf((await metrics()).samples)
    await killPoolHaproxy(world.paths(poolId))

    const down = await metrics()
    expect(sample(down.samples, 'lbaas_pool_up')).toBe(0)
    expect(sample(down.samples, 'lbaas_pool_current_connections')).toBe(0)
    expectNotBackwards(before, countersOf(down.samples))
    expect((await promtool(down.text)).code).toBe(0)

    await world.cli.json(['sync', '--json'])
    expect((await tally(vipAddress(), 80, 10)).ok).toBe(10)
    const {samples} = await metrics()
    expect(sample(samples, 'lbaas_pool_up')).toBe(1)
    const after = countersOf(samples)
    expectNotBackwards(before, after)
    expect(after.total_connections).toBeGreaterThanOrEqual(before.total_connections + 10)
    const shown = await stats()
    expect(after).toEqual({bytes_in: shown.bytes_in, bytes_out: shown.bytes_out, total_connections: shown.total_connections})
  })

  it('--textfile writes DIR/lbaas.prom atomically (no temporary file left)', async () => {
    const dir = `${world.dir}/textfile`
    mkdirSync(dir)
    const result = await world.cli.run(['metrics', '--textfile', dir])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toBe('')
    expect(readdirSync(dir)).toEqual(['lbaas.prom'])
    const text = readFileSync(`${dir}/lbaas.prom`, 'utf8')
    expect(sample(parse(text), 'lbaas_pool_up')).toBe(1)
    expect((await promtool(text)).code).toBe(0)
    const missing = await world.cli.run(['metrics', '--textfile', `${dir}/nope`, '--json'])
    expect(missing.exitCode).toBe(2)
    expect(existsSync(`${dir}/nope`)).toBe(false)
  })
})

describe('lbaas metrics serve', () => {
  it('answers every scrape while the pool reloads, counters never going backwards; SIGTERM ends it with exit 0', async () => {
    const port = await freePort()
    const {child} = await startServe(port)
    let last = countersOf(parse((await scrape(port)).body))
    // Three reloads in a row while traffic flows and the server is scraped.
    const reload = (async () => {
      for (const method of ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'ROUND_ROBIN']) await world.cli.json(['pool', 'update', poolId, '--lb-method', method, '--json'])
    })()
    let reloading = true
    void reload.finally(() => (reloading = false))
    const bodies: string[] = []
    for (let round = 0; round < 80 && (reloading || bodies.length < 3); round++) {
      void tally(vipAddress(), 80, 2)
      const answer = await scrape(port)
      expect(answer.status).toBe(200)
      const now = countersOf(parse(answer.body))
      expectNotBackwards(last, now)
      last = now
      bodies.push(answer.body)
    }
    await reload
    expect(bodies.length).toBeGreaterThanOrEqual(3)
    // Once the old workers' counter keepers are done, a scrape equals pool stats (nothing counted twice).
    const settled = await waitFor('scrape to equal pool stats', async () => {
      const shown = await stats()
      const now = countersOf(parse((await scrape(port)).body))
      return now.total_connections === shown.total_connections && now.bytes_in === shown.bytes_in ? now : undefined
    }, 30_000, 500)
    expectNotBackwards(last, settled)
    for (const body of [bodies[0], bodies.at(-1)!]) expect((await promtool(body)).code).toBe(0)

    const notFound = await fetch(`http://127.0.0.1:${port}/nope`)
    expect(notFound.status).toBe(404)
    child.kill('SIGTERM')
    expect(await exitOf(child)).toBe(0)
  })

  it('a port in use is a clear error with exit 4', async () => {
    const port = await freePort()
    const {child} = await startServe(port)
    const second = await world.cli.run(['metrics', 'serve', '--listen', `127.0.0.1:${port}`, '--json'])
    expect(second.exitCode).toBe(4)
    expect(JSON.parse(second.stdout).error.code).toBe('address_in_use')
    child.kill('SIGTERM')
    expect(await exitOf(child)).toBe(0)
    const bad = await world.cli.run(['metrics', 'serve', '--listen', 'localhost:80', '--json'])
    expect(bad.exitCode).toBe(2)
  })
})
