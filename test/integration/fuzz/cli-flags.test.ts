/**
 * Issue 6.3 through the real CLI: random flag sets (fast-check) for every create and update
 * command, each flag valid, hostile, or valid with a hostile part, against a deployed pool
 * (real HAProxy in a namespace, real `haproxy -c`). For every command:
 * - the exit code is 0, 2, 4 or 5 (never 1 or 3: a value the rules accept must render to a
 *   configuration HAProxy takes), and with --json a failure prints {error: {code, message,
 *   exit}} with the same exit code, never internal_error;
 * - a failure leaves the state file, the running configuration, the HAProxy master and the
 *   pool namespaces exactly as they were;
 * - a success leaves every deployed pool running exactly what the state renders, with
 *   names and descriptions nowhere in it and accepted url_path/http_method/cookie_name as
 *   single words.
 * Reproduce with LBAAS_FUZZ_SEED; LBAAS_FUZZ_CLI_RUNS changes the count (default 60);
 * LBAAS_FUZZ_DEBUG=1 prints every command and its answer.
 */
import {existsSync, readFileSync} from 'node:fs'

import Database from 'better-sqlite3'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PoolGraph} from '../../../src/domain/types.js'
import {liveVip} from '../../../src/domain/status.js'
import {LocalExecutor} from '../../../src/host/executor.js'
import {haproxyAccount, runningMaster} from '../../../src/host/haproxy-process.js'
import {readFdLimit, safeMaxConn} from '../../../src/host/limits.js'
import {listNamespaces} from '../../../src/host/netns.js'
import {poolPaths} from '../../../src/host/names.js'
import {silentNotifier} from '../../../src/service/context.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import {
  CaseCounter,
  fuzzOptions,
  hostileString,
  input,
  renderingProblems,
  stateFingerprint,
  validBool,
  validConnectionLimit,
  validDelay,
  validDescription,
  validExpectedCodes,
  validHttpMethod,
  validLbMethod,
  validMonitorType,
  validName,
  validPersistence,
  validPort,
  validProtocol,
  validRetries,
  validTimeout,
  validUrlPath,
  validWeight,
} from '../../helpers/hostile.js'
import {confineAddresses} from '../../helpers/hostile-messages.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const RUNS = Number(process.env.LBAAS_FUZZ_CLI_RUNS ?? 60)
const world = trafficLab('fzc')
const cli = world.cli
const counter = new CaseCounter()
const outcomes = new Map<string, number>()
let lab: LabInfo
const ids = {web: '', spare: '', member: '', monitor: '', vip: ''}

beforeAll(async () => {
  lab = await world.lab(1)
  ids.web = (await world.pool('web', 'HTTP', 'ROUND_ROBIN', lab)).id
  ids.spare = (await world.pool('spare', 'HTTP', 'ROUND_ROBIN', lab)).id
  ids.member = (await world.member(ids.web, lab.backend(1).address)).id
  ids.monitor = (await world.monitor(['--type', 'HTTP', '--delay', '5', '--timeout', '2', '--max-retries', '3', '--url-path', '/healthz'])).id
  await cli.json(['monitor', 'associate', ids.monitor, ids.web, '--json'])
  ids.vip = (await world.vip(ids.web, 'web-vip', 'HTTP', 80, lab, `${lab.base}.2`)).id
}, 300_000)

afterAll(async () => {
  console.info(`${counter.summary('CLI flags')}; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`)
  await world.cleanup()
}, 300_000)

interface Command {
  /** Topic, verb and flags. */
  argv: string[]
  /** The positional argument: always after `--`, so hostile text is never read as a flag. */
  positional?: string
  /** Commands that undo a success (given its JSON output). */
  undo?: (body: Record<string, any>) => string[][]
}

/** The whole command line: flags, --json, then `-- POSITIONAL`. */
function commandLine(command: Command): string[] {
  return [...command.argv, '--json', ...(command.positional === undefined ? [] : ['--', command.positional.replaceAll('\0', '')])]
}

/**
 * Flags for argv (which cannot hold a NUL), as `--flag value` or `--flag=value`. A value that
 * is an IP address outside the lab's subnet becomes one inside it: a fuzzed address must
 * never make HAProxy check or connect outside the test's own network.
 */
function flags(values: Record<string, unknown>, glue: boolean): string[] {
  const argv: string[] = []
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined) continue
    if (value === true && flag.endsWith('-down')) argv.push(`--${flag}`)
    else if (typeof value === 'boolean' && flag.endsWith('-down')) continue
    else if (flag.endsWith('-down')) {
      // oclif splits `--boolean=VALUE` and reads VALUE as the next argument: `--x-down=--state=F`
      // would be `--x-down --state=F` (reported; not a value lbaas sees). Keep VALUE from
      // looking like a flag, so it stays a stray argument (exit 2).
      const text = (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)).replaceAll('\0', '')
      argv.push(`--${flag}=${text.startsWith('-') ? `_${text}` : text}`)
    } else {
      const raw = (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)).replaceAll('\0', '')
      const text = confineAddresses(raw, lab.cidr, `${lab.base}.201`)
      // A value that starts with `-` is always glued: on its own it would be read as a flag
      // (a fuzzed `--state=/etc/passwd` once was, and lbaas then opened /etc/passwd).
      if (glue || text.startsWith('-')) argv.push(`--${flag}=${text}`)
      else argv.push(`--${flag}`, text)
    }
  }
  return argv
}

const persistenceText = validPersistence.map((value) =>
  value === null ? 'none' : typeof value === 'string' ? value : (value as {type: string; cookie_name?: string}).cookie_name ? `APP_COOKIE:${(value as {cookie_name: string}).cookie_name}` : (value as {type: string}).type,
)
const ref = (...valid: (() => string)[]) => fc.oneof({weight: 5, arbitrary: fc.constantFrom(...valid).map((get) => get())}, {weight: 1, arbitrary: hostileString})
const addressIn = (low: number, high: number) => fc.integer({min: low, max: high}).map((host) => `${lab.base}.${host}`)

function commands(): fc.Arbitrary<Command> {
  const text = {text: true}
  const poolCreate = input(
    {name: validName, description: validDescription, protocol: validProtocol, 'lb-method': validLbMethod, 'admin-state-down': fc.boolean()},
    {...text, optional: ['description', 'admin-state-down']},
  ).chain((values) =>
    fc.tuple(ref(() => lab.subnet), fc.boolean()).map(([subnet, glue]): Command => ({
      argv: ['pool', 'create', ...flags({...values, subnet}, glue)],
      undo: (body) => [['pool', 'delete', body.id, '--yes']],
    })),
  )
  const poolUpdate = fc
    .tuple(
      ref(() => ids.web),
      input({name: validName, description: validDescription, 'lb-method': validLbMethod, 'admin-state-up': validBool}, {...text, optional: ['name', 'description', 'lb-method', 'admin-state-up']}),
      fc.boolean(),
    )
    .map(([pool, values, glue]): Command => ({argv: ['pool', 'update', ...flags(values, glue)], positional: pool}))
  const memberCreate = fc
    .tuple(
      ref(() => ids.web, () => ids.spare),
      input({address: addressIn(20, 250), 'protocol-port': validPort, weight: validWeight, 'admin-state-down': fc.boolean()}, {...text, optional: ['weight', 'admin-state-down']}),
      fc.boolean(),
    )
    .map(([pool, values, glue]): Command => ({argv: ['member', 'create', ...flags(values, glue)], positional: pool, undo: (body) => [['member', 'delete', body.id, '--yes']]}))
  const memberUpdate = fc
    .tuple(
      ref(() => ids.member),
      input({weight: validWeight, 'admin-state-up': validBool, pool: fc.constantFrom(ids.spare, ids.web)}, {...text, optional: ['weight', 'admin-state-up', 'pool']}),
      fc.boolean(),
    )
    .map(([member, values, glue]): Command => ({
      argv: ['member', 'update', ...flags(values, glue)],
      positional: member,
      undo: (body) => (body.pool_id === ids.web ? [] : [['member', 'update', body.id, '--pool', ids.web]]),
    }))
  const monitorFields = {
    delay: validDelay,
    timeout: validTimeout,
    'max-retries': validRetries,
    'http-method': validHttpMethod,
    'url-path': validUrlPath,
    'expected-codes': validExpectedCodes,
  }
  const monitorCreate = fc
    .tuple(input({type: validMonitorType, ...monitorFields, 'admin-state-down': fc.boolean()}, {...text, optional: ['http-method', 'url-path', 'expected-codes', 'admin-state-down']}), fc.boolean())
    .map(([values, glue]): Command => ({argv: ['monitor', 'create', ...flags(values, glue)], undo: (body) => [['monitor', 'delete', body.id, '--yes']]}))
  const monitorUpdate = fc
    .tuple(ref(() => ids.monitor), input({...monitorFields, 'admin-state-up': validBool}, {...text, optional: [...Object.keys(monitorFields), 'admin-state-up']}), fc.boolean())
    .map(([monitor, values, glue]): Command => ({argv: ['monitor', 'update', ...flags(values, glue)], positional: monitor}))
  const vipCreate = fc
    .tuple(
      ref(() => ids.spare),
      input(
        {
          name: validName,
          protocol: validProtocol,
          'protocol-port': validPort,
          subnet: fc.constant(lab.subnet),
          address: addressIn(3, 9),
          'connection-limit': validConnectionLimit,
          'session-persistence': persistenceText,
          description: validDescription,
          'admin-state-down': fc.boolean(),
        },
        {...text, optional: ['address', 'connection-limit', 'session-persistence', 'description', 'admin-state-down']},
      ),
      fc.boolean(),
    )
    .map(([pool, values, glue]): Command => ({argv: ['vip', 'create', ...flags(values, glue)], positional: pool, undo: (body) => [['vip', 'delete', body.id, '--yes']]}))
  const vipUpdate = fc
    .tuple(
      ref(() => ids.vip),
      input(
        {
          name: validName,
          description: validDescription,
          'connection-limit': validConnectionLimit,
          'session-persistence': persistenceText,
          'admin-state-up': validBool,
          pool: fc.constant(ids.spare),
        },
        {...text, optional: ['name', 'description', 'connection-limit', 'session-persistence', 'admin-state-up', 'pool']},
      ),
      fc.boolean(),
    )
    .map(([vip, values, glue]): Command => ({
      argv: ['vip', 'update', ...flags(values, glue)],
      positional: vip,
      undo: (body) => (body.pool_id === ids.web ? [] : [['vip', 'update', body.id, '--pool', ids.web]]),
    }))
  // The claimed CIDR always overlaps the lab's: a subnet create never succeeds, so no bridge is made.
  const subnetCreate = fc
    .tuple(
      input({name: fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/), gateway: fc.constant(`${lab.base}.1`), bridge: fc.stringMatching(/^[A-Za-z0-9_.-]{1,15}$/)}, {...text, optional: ['gateway', 'bridge']}),
      fc.boolean(),
    )
    .map(([values, glue]): Command => ({
      argv: ['subnet', 'create', ...flags({cidr: lab.cidr, gateway: values.gateway, bridge: values.bridge}, glue)],
      positional: String(values.name ?? 'x'),
    }))
  const stray = fc.constantFrom(['--bogus'], ['-x'], ['--json=yes'], ['--name'], ['extra', 'positional'])
  return fc
    .tuple(
      fc.oneof(poolCreate, poolUpdate, memberCreate, memberCreate, memberUpdate, monitorCreate, monitorUpdate, monitorUpdate, vipCreate, vipUpdate, subnetCreate),
      fc.oneof({weight: 11, arbitrary: fc.constant(null)}, {weight: 1, arbitrary: stray}),
    )
    .map(([command, extra]) => ({...command, argv: extra ? [...command.argv, ...extra] : command.argv}))
}

/** What a failure must leave alone: the state file, the running configuration and master, the namespaces. */
function hostFingerprint(): string {
  const parts = [stateFingerprint(cli.statePath)]
  for (const poolId of [ids.web, ids.spare]) {
    const paths = poolPaths(world.runDir, poolId)
    parts.push(existsSync(paths.config) ? readFileSync(paths.config, 'utf8') : '(none)', String(runningMaster(paths) ?? '-'))
  }
  // Only this file's pools: other test files make and remove their own namespaces meanwhile.
  parts.push(listNamespaces('lbaas-').filter((name) => world.poolIds.has(name.slice('lbaas-'.length))).sort().join(','))
  return parts.join('\n--\n')
}

const executor = () => new LocalExecutor({runDir: world.runDir, maxconn: safeMaxConn(readFdLimit().hard), ...haproxyAccount(), notify: silentNotifier})

/** Every deployed pool of this file runs exactly what the state renders, safely. */
function deployedProblems(): string[] {
  const db = new Database(cli.statePath, {readonly: true, fileMustExist: true})
  const problems: string[] = []
  try {
    for (const poolId of [ids.web, ids.spare]) {
      const stored = loadPoolGraph(db, poolId)
      if (!stored) continue
      const graph: PoolGraph = {...stored, vip: liveVip(stored)}
      if (!graph.vip) continue
      const rendered = executor().render(graph)
      const running = existsSync(rendered.paths.config) ? readFileSync(rendered.paths.config, 'utf8') : '(missing)'
      if (running !== rendered.config) problems.push(`pool ${poolId}: the running configuration is not the state's rendering`)
      const options = {
        statsSocket: rendered.paths.statsSocket,
        serverStateFile: rendered.paths.serverState,
        maxconn: safeMaxConn(readFdLimit().hard),
        ...haproxyAccount(),
        hardStopAfter: '30s',
      }
      problems.push(...renderingProblems(graph, options).map((problem) => `pool ${poolId}: ${problem}`))
    }
  } finally {
    db.close()
  }
  return problems
}

describe(`${RUNS} random flag sets through the built CLI`, () => {
  it('exit codes of SPEC §2, JSON errors, nothing changed on failure, safe configurations on success', async () => {
    await fc.assert(
      fc.asyncProperty(commands(), async (command) => {
        counter.tick()
        const argv = commandLine(command)
        const before = hostFingerprint()
        const result = await cli.run(argv)
        const label = `lbaas ${argv.map((arg) => JSON.stringify(arg)).join(' ')} → exit ${result.exitCode}`
        if (process.env.LBAAS_FUZZ_DEBUG) console.info(label, result.stdout.slice(0, 300))
        const key = `${argv[0]} ${argv[1]} ${result.exitCode}`
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
        expect([0, 2, 4, 5], `${label}\n${result.stdout}${result.stderr}`).toContain(result.exitCode)
        let body: any
        try {
          body = JSON.parse(result.stdout)
        } catch {
          throw new Error(`${label}: stdout is not JSON:\n${result.stdout}${result.stderr}`)
        }
        if (result.exitCode !== 0) {
          expect(body, label).toMatchObject({error: {code: expect.any(String), message: expect.any(String), exit: result.exitCode}})
          expect(body.error.code, label).not.toBe('internal_error')
          const after = hostFingerprint()
          if (after !== before) {
            const [was, is] = [before.split('\n--\n'), after.split('\n--\n')]
            const parts = ['state file', 'web config', 'web master', 'spare config', 'spare master', 'namespaces']
            throw new Error(`${label} (${body.error.code}) changed: ${parts.filter((_, index) => was[index] !== is[index]).join(', ')}`)
          }
          return
        }
        expect(typeof body, label).toBe('object')
        expect(deployedProblems(), label).toEqual([])
        for (const undo of command.undo?.(body) ?? []) {
          const undone = await cli.run([...undo, '--json'])
          expect(undone.exitCode, `undo ${undo.join(' ')}: ${undone.stdout}${undone.stderr}`).toBe(0)
        }
      }),
      fuzzOptions(RUNS),
    )
    // Both ways happened.
    const successes = [...outcomes].filter(([key]) => key.endsWith(' 0')).reduce((sum, [, n]) => sum + n, 0)
    expect(successes).toBeGreaterThan(RUNS / 10)
    expect(counter.count - successes).toBeGreaterThan(RUNS / 10)
  }, 1_800_000)

  it('after it all the host runs what the state renders, and sync plans nothing', async () => {
    expect(deployedProblems()).toEqual([])
    const plan = await cli.json<unknown[]>(['sync', '--dry-run', '--json'])
    expect(plan).toEqual([])
  }, 120_000)
})
