/**
 * Issue 12 (SPEC §8): `lbaas apply` through the built CLI against real HAProxy and lab
 * backends: a file of three pools from nothing, a second apply that changes nothing, a
 * weight through the runtime API (no reload), a member added (exactly one reload), a VIP
 * moved (answering on the new address only), --prune, and files refused with every path
 * and the state file left byte for byte as it was.
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'

import type {Pool} from '../../../src/domain/types.js'
import {namespaceExists} from '../../../src/host/netns.js'
import {stateContent} from '../../helpers/state-content.js'
import {backendsSeen, send, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('apply')
const stack = `t${world.suffix}`
const monitorName = `hc-${world.suffix}`
const fileOf = (name: string) => `${world.dir}/${name}`
let lab: LabInfo

interface MemberSpec {address: string; protocol_port: number; weight?: number}
interface PoolSpec {name: string; members: MemberSpec[]; vip: {name: string; protocol_port: number; address?: string}}

let pools: PoolSpec[] = []

function document(specs: PoolSpec[]) {
  return {
    apiVersion: 'lbaas/v1',
    stack,
    monitors: [{name: monitorName, type: 'HTTP', delay: 1, timeout: 1, max_retries: 2, url_path: '/healthz'}],
    pools: specs.map((spec) => ({name: spec.name, subnet: lab.subnet, protocol: 'HTTP', lb_method: 'ROUND_ROBIN', monitors: [monitorName], members: spec.members, vip: spec.vip})),
  }
}

function write(specs: PoolSpec[], name = 'stack.yaml'): string {
  writeFileSync(fileOf(name), stringify(document(specs)))
  return fileOf(name)
}

const apply = (file: string, extra: string[] = []) => world.cli.run(['apply', '-f', file, ...extra])
const poolNamed = (name: string) => world.cli.json<Pool>(['pool', 'show', name, '--json'])
const reloads = async (name: string) => (await world.proc((await poolNamed(name)).id)).master.reloads

/** The state file and its WAL: what "no writes" is measured on. */
function stateBytes(): string {
  const wal = `${world.cli.statePath}-wal`
  return readFileSync(world.cli.statePath).toString('hex') + (existsSync(wal) ? readFileSync(wal).toString('hex') : '')
}

beforeAll(async () => {
  lab = await world.lab(4)
  const member = (n: number, weight?: number): MemberSpec => ({address: lab.backend(n).address, protocol_port: 8000, ...(weight === undefined ? {} : {weight})})
  pools = [
    {name: `a-${world.suffix}`, members: [member(1), member(2)], vip: {name: `a-vip-${world.suffix}`, protocol_port: 80}},
    {name: `b-${world.suffix}`, members: [member(2), member(3)], vip: {name: `b-vip-${world.suffix}`, protocol_port: 80, address: `${lab.base}.3`}},
    {name: `c-${world.suffix}`, members: [member(4)], vip: {name: `c-vip-${world.suffix}`, protocol_port: 80, address: `${lab.base}.4`}},
  ]
})

afterAll(async () => {
  await world.cleanup()
})

describe('lbaas apply, file by file', () => {
  it('applies three pools from nothing, and each VIP answers from its own members', async () => {
    const result = await apply(write(pools), ['--json'])
    expect(result.stderr).not.toMatch(/error|warning/)
    expect(result.exitCode).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.changed).toBe(true)
    expect(report.errors).toEqual([])
    expect(report.actions.filter((action: {kind: string; host: string}) => action.kind === 'pool').map((action: {host: string}) => action.host)).toEqual(['deploy', 'deploy', 'deploy'])
    // The omitted address is the first free one (.1 is the gateway); it is kept from now on.
    const addresses = [`${lab.base}.2`, `${lab.base}.3`, `${lab.base}.4`]
    const expected = [[1, 2], [2, 3], [4]]
    for (const [index, address] of addresses.entries()) {
      const seen = await tally(address, 80, 8)
      expect(seen.errors).toEqual([])
      expect(backendsSeen(seen).sort()).toEqual(expected[index].map((n) => lab.backend(n).name).sort())
    }
    // Every master answers on its socket, not only the workers: a master re-executes itself
    // after its worker is up and rebinds the socket under a temporary name that a deploy
    // finishing beside it must leave alone.
    for (const pool of pools) expect(await reloads(pool.name)).toBe(0)
  })

  it('a second apply changes nothing: no writes, no reloads, "no changes"; plan and export agree', async () => {
    const before = await Promise.all(pools.map((pool) => reloads(pool.name)))
    const bytes = stateBytes()
    const result = await apply(fileOf('stack.yaml'))
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/no changes/)
    expect(stateBytes()).toBe(bytes)
    expect(await Promise.all(pools.map((pool) => reloads(pool.name)))).toEqual(before)
    expect((await world.cli.run(['plan', '-f', fileOf('stack.yaml'), '--detailed-exitcode'])).exitCode).toBe(0)
    const exported = await world.cli.run(['export', '--stack', stack])
    expect(exported.exitCode).toBe(0)
    const replanned = await world.cli.run(['plan', '-f', '-', '--detailed-exitcode', '--json'], {input: exported.stdout})
    expect(replanned.exitCode).toBe(0)
    expect(JSON.parse(replanned.stdout).changed).toBe(false)
  }, 240_000) // nine CLI runs: slow only on a loaded machine

  it('a weight goes through the runtime API: the master reload counter is unchanged', async () => {
    pools[0].members[1].weight = 5
    const file = write(pools)
    const planned = await world.cli.run(['plan', '-f', file, '--detailed-exitcode', '--json'])
    expect(planned.exitCode).toBe(6)
    const poolAction = JSON.parse(planned.stdout).actions.find((action: {kind: string; name: string}) => action.kind === 'pool' && action.name === pools[0].name)
    expect(poolAction.host).toBe('runtime')
    const before = await reloads(pools[0].name)
    expect((await apply(file)).exitCode).toBe(0)
    expect(await reloads(pools[0].name)).toBe(before)
    const id = (await poolNamed(pools[0].name)).id
    const stat = await world.stat(id)
    expect(stat.servers.filter((server) => server.backend === id).map((server) => server.weight).sort()).toEqual([1, 5])
    expect(world.config(id)).toMatch(/weight 5/)
  })

  it('a member added reloads its pool exactly once, and the new member answers', async () => {
    pools[1].members.push({address: lab.backend(4).address, protocol_port: 8000})
    const others = await Promise.all([reloads(pools[0].name), reloads(pools[2].name)])
    const before = await reloads(pools[1].name)
    expect((await apply(write(pools))).exitCode).toBe(0)
    expect(await reloads(pools[1].name)).toBe(before + 1)
    expect(await Promise.all([reloads(pools[0].name), reloads(pools[2].name)])).toEqual(others)
    const seen = await tally(`${lab.base}.3`, 80, 12)
    expect(backendsSeen(seen).sort()).toEqual([2, 3, 4].map((n) => lab.backend(n).name).sort())
  })

  it('a VIP address changed is replugged: it answers on the new address only', async () => {
    pools[2].vip.address = `${lab.base}.5`
    const result = await apply(write(pools), ['--json'])
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout).actions.find((action: {name: string}) => action.name === pools[2].name).host).toBe('replug')
    expect((await send(`${lab.base}.5`, 80)).backend).toBe(lab.backend(4).name)
    await expect(send(`${lab.base}.4`, 80, {timeoutMs: 1_500})).rejects.toThrow()
  })

  it('--prune deletes the pool the file no longer lists, and leaves the others running', async () => {
    const gone = await poolNamed(pools[2].name)
    const kept = await Promise.all([reloads(pools[0].name), reloads(pools[1].name)])
    const file = write(pools.slice(0, 2))
    const withoutPrune = await world.cli.run(['plan', '-f', file, '--detailed-exitcode'])
    expect(withoutPrune.exitCode).toBe(0)
    const result = await apply(file, ['--prune'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`- pool ${pools[2].name}: delete \\(host: undeploy\\)`))
    expect((await world.cli.run(['pool', 'show', gone.id])).exitCode).toBe(5)
    expect(namespaceExists(`lbaas-${gone.id}`)).toBe(false)
    expect(await Promise.all([reloads(pools[0].name), reloads(pools[1].name)])).toEqual(kept)
    pools = pools.slice(0, 2)
  })

  it("refuses another stack's file naming these pools: a conflict (exit 4), nothing changed", async () => {
    const bytes = stateContent(world.cli.statePath)
    writeFileSync(fileOf('other.yaml'), stringify({...document(pools), stack: `other-${world.suffix}`, monitors: []}).replace(`monitors:\n      - ${monitorName}`, 'monitors: []'))
    const result = await apply(fileOf('other.yaml'), ['--json'])
    expect(result.exitCode).toBe(4)
    expect(JSON.parse(result.stdout).errors.map((error: {path: string}) => error.path)).toEqual(['pools[0]', 'pools[1]'])
    expect(stateContent(world.cli.statePath)).toBe(bytes)
  })
})

describe('hostile files are refused with their paths, and the state is left as it was (only the audit trail records the refusal)', () => {
  it('every §1 rule broken somewhere: every problem listed, exit 2', async () => {
    const bytes = stateContent(world.cli.statePath)
    const hostile = {
      apiVersion: 'lbaas/v1',
      stack: 'bad stack',
      colour: 'blue',
      subnets: [{name: 'x#y', cidr: '198.18.0.0/31'}, {name: '6f1c2a9e-0000-4000-8000-000000000002', cidr: 'not-a-cidr', gateway_ip: '10.0.0.1'}],
      monitors: [{name: 'm\nx', type: 'SMTP', delay: 0, timeout: 5, max_retries: 11, http_method: 'get', url_path: 'no-slash', expected_codes: '99-700'}],
      pools: [
        {
          name: 'p\u0000', subnet: lab.subnet, protocol: 'UDP', lb_method: 'RANDOM', description: 'a\nb',
          members: [{address: '999.1.1.1', protocol_port: 0, weight: 257}, {address: lab.backend(1).address, protocol_port: 8000, weight: -1, admin_state_up: 'maybe'}],
          vip: {name: '', protocol_port: 70000, connection_limit: 0, session_persistence: {type: 'APP_COOKIE', cookie_name: 'a b'}},
        },
      ],
    }
    writeFileSync(fileOf('hostile.json'), JSON.stringify(hostile))
    const result = await apply(fileOf('hostile.json'), ['--json'])
    expect(result.exitCode).toBe(2)
    const paths = JSON.parse(result.stdout).errors.map((error: {path: string}) => error.path)
    expect(paths).toEqual(expect.arrayContaining([
      'stack', 'colour', 'subnets[0].name', 'subnets[0].cidr', 'subnets[1].name', 'subnets[1].cidr',
      'monitors[0].name', 'monitors[0].type', 'monitors[0].delay', 'monitors[0].max_retries', 'monitors[0].http_method', 'monitors[0].url_path', 'monitors[0].expected_codes',
      'pools[0].name', 'pools[0].protocol', 'pools[0].lb_method', 'pools[0].description',
      'pools[0].members[0].address', 'pools[0].members[0].protocol_port', 'pools[0].members[0].weight',
      'pools[0].members[1].weight', 'pools[0].members[1].admin_state_up',
      'pools[0].vip.name', 'pools[0].vip.protocol_port', 'pools[0].vip.connection_limit', 'pools[0].vip.session_persistence',
    ]))
    // Human output: the same problems, one per line, on stderr.
    const human = await apply(fileOf('hostile.json'))
    expect(human.exitCode).toBe(2)
    expect(human.stderr).toMatch(/pools\[0\]\.members\[0\]\.weight: must be between 0 and 256/)
    expect(stateContent(world.cli.statePath)).toBe(bytes)
  })

  it.each([
    ['a 10 MB file', () => `apiVersion: lbaas/v1\nstack: s\n# ${'x'.repeat(10 * 1024 * 1024)}\n`, /limited to/],
    ['deeply nested YAML', () => `apiVersion: lbaas/v1\nstack: s\npools: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`, /nests deeper/],
    ['an alias bomb', () => `apiVersion: lbaas/v1\nstack: s\na0: &a0 [x,x,x,x,x,x,x,x,x,x]\n${Array.from({length: 9}, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(',')}]`).join('\n')}\n`, /alias/],
    ['duplicate keys', () => `apiVersion: lbaas/v1\nstack: s\nstack: t\n`, /unique/],
  ])('%s', async (_what, text, message) => {
    const bytes = stateContent(world.cli.statePath)
    writeFileSync(fileOf('hostile.yaml'), text())
    const result = await apply(fileOf('hostile.yaml'))
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(stateContent(world.cli.statePath)).toBe(bytes)
    // The same through standard input.
    const piped = await world.cli.run(['plan', '-f', '-'], {input: readFileSync(fileOf('hostile.yaml'), 'utf8')})
    expect(piped.exitCode).toBe(2)
  })
})
