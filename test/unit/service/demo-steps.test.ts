/**
 * The demo as a step table (issue 11): every lbaas line the demo prints is the argv that
 * ran, word for word. The whole `lbaas demo` runs here on the noop executor with a fake lab
 * (no root, no host), and each printed line is compared with the argv its step ran with
 * and with what that step made in the state file.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {InternalError} from '../../../src/domain/errors.js'
import type {Member} from '../../../src/domain/types.js'
import {listMembers} from '../../../src/store/members.js'
import {findPoolsByName} from '../../../src/store/pools.js'
import type {DemoHost} from '../../../src/service/demo-commands.js'
import {DemoScript, scriptLine, shellRef, StepArgs} from '../../../src/service/demo-steps.js'
import {runDemo, type DemoReporter} from '../../../src/service/demo.js'
import {listAllMonitors} from '../../../src/service/monitors.js'
import {createSubnet, deleteSubnet} from '../../../src/service/subnets.js'
import {listAllVips} from '../../../src/service/vips.js'
import {shellWords} from '../../helpers/manifest.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'

let ctx: ReturnType<typeof testContext>

beforeEach(() => {
  ctx = testContext(new RecordingExecutor())
})
afterEach(() => ctx.cleanup())

/** A lab that exists only in the state file: backends answer as their health says, at once. */
function fakeLab(): DemoHost & {health: Map<string, boolean>} {
  const health = new Map<string, boolean>()
  const backends: {name: string; address: string; port: number}[] = []
  const healthOf = (address: string) => health.get(backends.find((backend) => backend.address === address)?.name ?? '') ?? true
  return {
    health,
    async labUp(context, input = {}) {
      const subnet = await createSubnet(context, {name: input.subnet!, cidr: input.cidr!})
      const base = subnet.cidr.split('.').slice(0, 3).join('.')
      for (let n = 1; n <= Number(input.backends); n++) backends.push({name: `${subnet.name}-${n}`, address: `${base}.${10 + n}`, port: 8000})
      return backends.map((backend) => ({...backend, subnet: subnet.name, tls: false, namespace: 'fake', running: true, healthy: true, pid: null}))
    },
    async labDown(context, subnet) {
      await deleteSubnet(context, subnet!)
      return []
    },
    labSetHealth(_context, name, healthy) {
      health.set(name, healthy)
      return {name} as never
    },
    async sendBurst({count}) {
      const serving = backends.filter((backend) => health.get(backend.name) ?? true)
      const answeredBy = new Map(serving.map((backend, index) => [backend.name, Math.floor(count / serving.length) + (index < count % serving.length ? 1 : 0)]))
      return {sent: count, failed: 0, answeredBy} as never
    },
    async memberStatuses(context, poolId) {
      return listMembers(context.store.db, poolId).map((member): Member => ({...member, operating_status: healthOf(member.address) ? 'ONLINE' : 'OFFLINE'}))
    },
    sleep: async () => {},
  }
}

/** The argv a printed line runs: `VAR=$(…)` unwrapped, its `-f value -c COLUMN` dropped, variables replaced. */
function argvOfLine(line: string, variables: Map<string, string>): string[] {
  const captured = /^([A-Z_]+)=\$\((.*)\)$/.exec(line)
  const words = shellWords(captured ? captured[2] : line).map((word) => word.replace(/^\$([A-Z_]+)$/, (_, name: string) => variables.get(name) ?? word))
  expect(words[0]).toBe('lbaas')
  return captured ? words.slice(1, -4) : words.slice(1)
}

function recordingReporter(): DemoReporter & {steps: {argv: string[]; line: string}[]} {
  const steps: {argv: string[]; line: string}[] = []
  return {steps, heading: async () => {}, note: async () => {}, spread: async () => {}, ran: (argv, line) => void steps.push({argv: [...argv], line})}
}

describe('the demo step table', () => {
  it('prints each lbaas line from the argv that ran, and the state holds what those lines say', async () => {
    const reporter = recordingReporter()
    const lab = fakeLab()
    const report = await runDemo(ctx, {subnet: 'tbl', cidr: '198.18.7.0/24', uid: 0, keep: true}, reporter, lab)

    // Every step's printed line is its argv (with the script's variables), word for word.
    const monitorId = listAllMonitors(ctx)[0].id
    const variables = new Map([['MONITOR', monitorId], ['VIP', report.vip.address]])
    expect(reporter.steps.length).toBeGreaterThan(8)
    for (const step of reporter.steps) expect(argvOfLine(step.line, variables), step.line).toEqual(step.argv)
    // The script the operator gets is made of exactly those lines, in the order they ran.
    expect(report.commands.filter((line) => line.includes('lbaas '))).toEqual(reporter.steps.map((step) => step.line))

    // What ran is what the lines say.
    const byCommand = (command: string) => reporter.steps.filter((step) => step.argv.slice(0, 2).join(' ') === command).map((step) => step.argv)
    expect(byCommand('lab up')).toEqual([['lab', 'up', '--subnet', 'tbl', '--cidr', '198.18.7.0/24']])
    const [pool] = findPoolsByName(ctx.store.db, 'demo-web')
    expect(byCommand('pool create')).toEqual([['pool', 'create', '--name', pool.name, '--subnet', 'tbl', '--protocol', pool.protocol, '--lb-method', pool.lb_method]])
    const members = listMembers(ctx.store.db, pool.id)
    expect(byCommand('member create')).toEqual(members.map((member) => ['member', 'create', 'demo-web', '--address', member.address, '--protocol-port', String(member.protocol_port)]))
    const [monitor] = listAllMonitors(ctx)
    expect(byCommand('monitor create')[0]).toEqual([
      'monitor', 'create', '--type', monitor.type, '--delay', String(monitor.delay), '--timeout', String(monitor.timeout),
      '--max-retries', String(monitor.max_retries), '--url-path', monitor.url_path, '--expected-codes', monitor.expected_codes,
    ])
    expect(byCommand('monitor associate')).toEqual([['monitor', 'associate', monitor.id, 'demo-web']])
    const [vip] = listAllVips(ctx)
    expect(byCommand('vip create')).toEqual([['vip', 'create', 'demo-web', '--name', vip.name, '--protocol', vip.protocol, '--protocol-port', String(vip.protocol_port), '--subnet', 'tbl']])
    expect(byCommand('lab fail')).toEqual([['lab', 'fail', 'tbl-2']])
    expect(byCommand('lab heal')).toEqual([['lab', 'heal', 'tbl-2']])
    expect(lab.health.get('tbl-2')).toBe(true)
    // Kept: the lines to remove it, with the monitor's id where the script says "$MONITOR".
    expect(report.cleanup_commands).toEqual(['lbaas vip delete demo-web-vip --yes', 'lbaas pool delete demo-web --yes', `lbaas monitor delete ${monitor.id} --yes`, 'lbaas lab down --subnet tbl --yes'])
  })

  it('runs the cleanup lines it prints', async () => {
    const reporter = recordingReporter()
    const report = await runDemo(ctx, {subnet: 'tbl', cidr: '198.18.7.0/24', uid: 0}, reporter, fakeLab())
    const cleanup = reporter.steps.slice(-4)
    expect(cleanup.map((step) => step.argv.slice(0, 2).join(' '))).toEqual(['vip delete', 'pool delete', 'monitor delete', 'lab down'])
    // The printed script ends with the very lines the cleanup ran (printed before it ran).
    expect(report.commands.slice(-4)).toEqual(cleanup.map((step) => step.line))
    expect(listAllVips(ctx)).toEqual([])
    expect(listAllMonitors(ctx)).toEqual([])
  })

  it('refuses a step whose run leaves a word of its argv unused (the line would say more than ran)', async () => {
    const reporter = recordingReporter()
    const script = new DemoScript(reporter)
    const step = {command: ['pool', 'create'], argv: ['--name', 'web', '--lb-method', 'ROUND_ROBIN'], run: async (args: StepArgs) => args.flag('--name')}
    await expect(script.run(step)).rejects.toBeInstanceOf(InternalError)
    expect(script.lines).toEqual([])
    expect(reporter.steps).toEqual([])
  })

  it('shows variables, captures and environment in the script, and runs with the values', async () => {
    const step = {
      command: ['monitor', 'associate'],
      argv: [shellRef('MONITOR', 'f00'), 'web pool'],
      capture: {variable: 'OUT', column: 'id'},
      env: {LBAAS_STATE: '/tmp/a b/state.db'},
      run: async (args: StepArgs) => [args.positional(), args.positional()],
    }
    expect(scriptLine(step)).toBe(`OUT=$(LBAAS_STATE='/tmp/a b/state.db' lbaas monitor associate "$MONITOR" 'web pool' -f value -c id)`)
    const script = new DemoScript({heading: async () => {}})
    expect(await script.run(step)).toEqual(['f00', 'web pool'])
    expect(script.ran).toEqual([['monitor', 'associate', 'f00', 'web pool']])
  })

  it('checks root first: nothing reaches the state or the host without it', async () => {
    const error = await runDemo(ctx, {uid: 1000}, recordingReporter(), fakeLab()).catch((failure: unknown) => failure)
    expect(error).toMatchObject({code: 'needs_root'})
    expect(listAllVips(ctx)).toEqual([])
  })
})
