/**
 * The engine of the concurrency tests (issue 6.2): N drivers, each running its commands one
 * after another through the built CLI, all drivers at once; a deterministic mix of writes
 * (seeded per driver); a record of every command (argv, start and end time, exit code,
 * `--json` output); and the checks that the final state file is the sum of the successful
 * commands, that every deployed pool runs exactly what the state renders, and that every
 * failure was a proper conflict or a not-found caused by a racing delete.
 *
 * Ownership keeps the expectation computable without guessing at interleavings: a member's
 * weight/admin state and a monitor's associations are changed only by the driver that
 * created them; members may be deleted by anyone (so updates race deletes); shared pools
 * and VIPs are updated by everyone (each field is then checked as a linearizable register:
 * its final value must come from a successful command that no other successful write of
 * that field strictly followed); one endpoint and one monitor association are contested by
 * every driver (at most one can exist at a time, counted from the successes).
 */
import {readFileSync} from 'node:fs'

import type {Member, Monitor, Pool, Vip} from '../../../src/domain/types.js'
import {showProc, showServersState, showStat} from '../../../src/haproxy/runtime.js'
import {parseServersState} from '../../../src/haproxy/stats.js'
import {LocalExecutor} from '../../../src/host/executor.js'
import {haproxyAccount} from '../../../src/host/haproxy-process.js'
import {readFdLimit, safeMaxConn} from '../../../src/host/limits.js'
import {poolPaths} from '../../../src/host/names.js'
import {silentNotifier} from '../../../src/service/context.js'
import {openStore} from '../../../src/store/db.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import type {CliResult} from '../../helpers/cli.js'

/** A seeded PRNG (mulberry32): the same seed gives every driver the same choices. */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

export interface SharedPool {
  id: string
  protocol: 'HTTP' | 'TCP'
  vipId: string | null
}

export interface World {
  runDir: string
  statePath: string
  base: string
  shared: SharedPool[]
  /** One pool per driver; even drivers' pools have a VIP. */
  own: SharedPool[]
  /** The monitor every driver associates with / disassociates from shared[0]. */
  commonMonitor: string
  /** Initial values of the objects made before the drivers start. */
  initial: Map<string, Record<string, unknown>>
  /** Members made before the drivers start (never deleted by them). */
  initialMembers: string[]
}

/** One command as it ran. */
export interface Outcome {
  driver: number
  seq: number
  op: string
  args: string[]
  start: number
  end: number
  exit: number
  code: string | undefined
  body: any
  output: string
  /** Outcomes other than success this command may have: error codes. */
  allowed: string[]
  /** The object whose fields it writes (a create learns it from its output). */
  target?: string
  writes?: Record<string, unknown>
  /** For the contested association: +1 associate, -1 disassociate. */
  contested?: 1 | -1
  /** The member this command updates or deletes (not_found is allowed if another command deleted it). */
  member?: string
  deletes?: 'member' | 'monitor'
}

interface OwnMember {
  id: string
  gone: boolean
}

interface OwnMonitor {
  id: string
  pools: Set<string>
  deleted: boolean
}

interface Step {
  op: string
  args: string[]
  allowed?: string[]
  target?: string
  writes?: Record<string, unknown>
  contested?: 1 | -1
  member?: string
  deletes?: 'member' | 'monitor'
  after?: (outcome: Outcome) => void
}

const LB_METHODS = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']
const EXPECTED_CODES = ['200', '200,202', '200-204', '200,201-203']

export type Run = (args: string[]) => Promise<CliResult>

/** Registry shared by the drivers of one run (they live in this process). */
class Registry {
  members: {id: string; owner: number}[] = []
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]
}

function int(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1))
}

/** Runs `drivers` × `commands` commands, `drivers` at a time, and returns every outcome. */
export async function runDrivers(world: World, run: Run, drivers: number, commands: number, seed: number): Promise<Outcome[]> {
  const registry = new Registry()
  const outcomes: Outcome[] = []
  const origin = performance.now()
  await Promise.all(
    Array.from({length: drivers}, async (_, driver) => {
      const random = prng(seed * 1_000 + driver)
      const members: OwnMember[] = []
      const monitors: OwnMonitor[] = []
      const ownPool = world.own[driver]
      const pools = [...world.shared, ownPool]
      const vipPools = pools.filter((pool) => pool.vipId !== null)
      for (let seq = 0; seq < commands; seq++) {
        const step = chooseStep({world, driver, seq, random, members, monitors, pools, vipPools, registry})
        const start = performance.now() - origin
        const result = await run([...step.args, '--json'])
        const end = performance.now() - origin
        let body: any
        try {
          body = JSON.parse(result.stdout)
        } catch {
          body = undefined
        }
        const outcome: Outcome = {
          driver,
          seq,
          op: step.op,
          args: step.args,
          start,
          end,
          exit: result.exitCode,
          code: body?.error?.code,
          body,
          output: `${result.stdout}${result.stderr}`,
          allowed: step.allowed ?? [],
          target: step.target,
          writes: step.writes,
          contested: step.contested,
          member: step.member,
          deletes: step.deletes,
        }
        outcomes.push(outcome)
        step.after?.(outcome)
      }
    }),
  )
  return outcomes
}

interface Choice {
  world: World
  driver: number
  seq: number
  random: () => number
  members: OwnMember[]
  monitors: OwnMonitor[]
  pools: SharedPool[]
  vipPools: SharedPool[]
  registry: Registry
}

function chooseStep(choice: Choice): Step {
  const roll = choice.random()
  const steps: [number, (choice: Choice) => Step | undefined][] = [
    [0.2, memberCreate],
    [0.24, commonMemberCreate],
    [0.42, memberUpdate],
    [0.5, memberDelete],
    [0.54, foreignMemberDelete],
    [0.59, monitorCreate],
    [0.67, monitorAssociate],
    [0.73, monitorDisassociate],
    [0.76, monitorUpdate],
    [0.78, monitorDelete],
    [0.82, commonAssociation],
    [0.9, poolUpdate],
    [1, vipUpdate],
  ]
  const chosen = steps.find(([limit]) => roll < limit)![1]
  return chosen(choice) ?? memberCreate(choice)
}

function memberCreate({world, driver, seq, random, members, pools, registry}: Choice): Step {
  const pool = pick(random, pools)
  const weight = int(random, 0, 256)
  const down = random() < 0.2
  return {
    op: 'member create',
    args: [
      'member', 'create', pool.id, '--address', `${world.base}.${100 + driver}`, '--protocol-port', String(10_000 + seq),
      '--weight', String(weight), ...(down ? ['--admin-state-down'] : []),
    ],
    writes: {weight, admin_state_up: !down},
    after: (outcome) => {
      if (outcome.exit !== 0) return
      outcome.target = outcome.body.id
      members.push({id: outcome.body.id, gone: false})
      registry.members.push({id: outcome.body.id, owner: driver})
    },
  }
}

/** Every driver creates the same endpoint on the first shared pool: one at a time can exist. */
function commonMemberCreate({world, driver, members, registry}: Choice): Step {
  return {
    op: 'member create (contested endpoint)',
    args: ['member', 'create', world.shared[0].id, '--address', `${world.base}.99`, '--protocol-port', '9999'],
    allowed: ['duplicate_member'],
    writes: {weight: 1, admin_state_up: true},
    after: (outcome) => {
      if (outcome.exit !== 0) return
      outcome.target = outcome.body.id
      members.push({id: outcome.body.id, gone: false})
      registry.members.push({id: outcome.body.id, owner: driver})
    },
  }
}

function memberUpdate({random, members}: Choice): Step | undefined {
  const live = members.filter((member) => !member.gone)
  if (live.length === 0) return undefined
  const member = pick(random, live)
  const writes: Record<string, unknown> = {}
  const args = ['member', 'update', member.id]
  const which = random()
  if (which < 0.7) {
    writes.weight = int(random, 0, 256)
    args.push('--weight', String(writes.weight))
  }
  if (which >= 0.4) {
    writes.admin_state_up = random() < 0.7
    args.push('--admin-state-up', String(writes.admin_state_up))
  }
  return {
    op: 'member update',
    args,
    target: member.id,
    writes,
    member: member.id,
    after: (outcome) => {
      if (outcome.code === 'not_found') member.gone = true
    },
  }
}

function memberDelete({random, members}: Choice): Step | undefined {
  const live = members.filter((member) => !member.gone)
  if (live.length === 0) return undefined
  const member = pick(random, live)
  return {
    op: 'member delete',
    args: ['member', 'delete', member.id, '--yes'],
    member: member.id,
    deletes: 'member',
    after: () => {
      member.gone = true
    },
  }
}

/** Deletes a member another driver created: that driver's updates now race a delete. */
function foreignMemberDelete({driver, random, registry}: Choice): Step | undefined {
  const foreign = registry.members.filter((member) => member.owner !== driver)
  if (foreign.length === 0) return undefined
  const member = pick(random, foreign)
  return {op: 'member delete (another driver\'s)', args: ['member', 'delete', member.id, '--yes'], member: member.id, deletes: 'member'}
}

function monitorFields(random: () => number): {args: string[]; writes: Record<string, unknown>} {
  const delay = int(random, 1, 10)
  const timeout = int(random, 1, delay)
  return {args: ['--delay', String(delay), '--timeout', String(timeout)], writes: {delay, timeout}}
}

function monitorCreate({driver, seq, random, monitors}: Choice): Step {
  const type = pick(random, ['HTTP', 'TCP', 'PING', 'HTTP'])
  const {args, writes} = monitorFields(random)
  const retries = int(random, 1, 10)
  const http = type === 'HTTP'
    ? ['--url-path', `/health/${driver}/${seq}`, '--expected-codes', pick(random, EXPECTED_CODES), '--http-method', pick(random, ['GET', 'HEAD'])]
    : []
  return {
    op: 'monitor create',
    args: ['monitor', 'create', '--type', type, ...args, '--max-retries', String(retries), ...http],
    writes: {...writes, max_retries: retries},
    after: (outcome) => {
      if (outcome.exit !== 0) return
      outcome.target = outcome.body.id
      monitors.push({id: outcome.body.id, pools: new Set(), deleted: false})
    },
  }
}

function monitorAssociate({random, monitors, pools}: Choice): Step | undefined {
  const candidates = monitors.filter((monitor) => !monitor.deleted && monitor.pools.size < pools.length)
  if (candidates.length === 0) return undefined
  const monitor = pick(random, candidates)
  const pool = pick(random, pools.filter((candidate) => !monitor.pools.has(candidate.id)))
  return {
    op: 'monitor associate',
    args: ['monitor', 'associate', monitor.id, pool.id],
    after: (outcome) => {
      if (outcome.exit === 0) monitor.pools.add(pool.id)
    },
  }
}

function monitorDisassociate({random, monitors}: Choice): Step | undefined {
  const candidates = monitors.filter((monitor) => !monitor.deleted && monitor.pools.size > 0)
  if (candidates.length === 0) return undefined
  const monitor = pick(random, candidates)
  const poolId = pick(random, [...monitor.pools])
  return {
    op: 'monitor disassociate',
    args: ['monitor', 'disassociate', monitor.id, poolId],
    after: (outcome) => {
      if (outcome.exit === 0) monitor.pools.delete(poolId)
    },
  }
}

function monitorUpdate({random, monitors}: Choice): Step | undefined {
  const candidates = monitors.filter((monitor) => !monitor.deleted)
  if (candidates.length === 0) return undefined
  const monitor = pick(random, candidates)
  const {args, writes} = monitorFields(random)
  return {op: 'monitor update', args: ['monitor', 'update', monitor.id, ...args], target: monitor.id, writes}
}

function monitorDelete({random, monitors}: Choice): Step | undefined {
  const candidates = monitors.filter((monitor) => !monitor.deleted)
  if (candidates.length === 0) return undefined
  const monitor = pick(random, candidates)
  const inUse = monitor.pools.size > 0
  return {
    op: 'monitor delete',
    args: ['monitor', 'delete', monitor.id, '--yes'],
    // The owner knows: associated monitors are refused, the others deleted.
    allowed: inUse ? ['in_use'] : [],
    deletes: inUse ? undefined : 'monitor',
    target: monitor.id,
    after: (outcome) => {
      if (outcome.exit === 0) monitor.deleted = true
    },
  }
}

function commonAssociation({world, random}: Choice): Step {
  const associate = random() < 0.5
  return associate
    ? {op: 'monitor associate (contested)', args: ['monitor', 'associate', world.commonMonitor, world.shared[0].id], allowed: ['already_associated'], contested: 1}
    : {op: 'monitor disassociate (contested)', args: ['monitor', 'disassociate', world.commonMonitor, world.shared[0].id], allowed: ['not_found'], contested: -1}
}

function poolUpdate({driver, seq, random, pools}: Choice): Step {
  const pool = pick(random, pools)
  const writes: Record<string, unknown> = {lb_method: pick(random, LB_METHODS), description: `d${driver}-${seq}`}
  const args = ['pool', 'update', pool.id, '--lb-method', String(writes.lb_method), '--description', String(writes.description)]
  if (random() < 0.25) {
    writes.admin_state_up = random() < 0.6
    args.push('--admin-state-up', String(writes.admin_state_up))
  }
  return {op: 'pool update', args, target: pool.id, writes}
}

function vipUpdate({driver, seq, random, vipPools}: Choice): Step {
  const pool = pick(random, vipPools)
  const limit = random() < 0.2 ? -1 : int(random, 1, 5_000)
  const writes: Record<string, unknown> = {connection_limit: limit, description: `v${driver}-${seq}`}
  const args = ['vip', 'update', pool.vipId!, '--connection-limit', String(limit), '--description', String(writes.description)]
  if (random() < 0.6) {
    const choices: [string, unknown][] =
      pool.protocol === 'HTTP'
        ? [['none', null], ['SOURCE_IP', {type: 'SOURCE_IP'}], ['HTTP_COOKIE', {type: 'HTTP_COOKIE'}], [`APP_COOKIE:c${driver}x${seq}`, {type: 'APP_COOKIE', cookie_name: `c${driver}x${seq}`}]]
        : [['none', null], ['SOURCE_IP', {type: 'SOURCE_IP'}]]
    const [text, value] = pick(random, choices)
    writes.session_persistence = value
    args.push('--session-persistence', text)
  }
  return {op: 'vip update', args, target: pool.vipId!, writes}
}

// ---- checks --------------------------------------------------------------------------

export interface FinalState {
  pools: Pool[]
  members: Member[]
  monitors: Monitor[]
  vips: Vip[]
}

const ok = (outcome: Outcome) => outcome.exit === 0

/** Every command succeeded, or failed with one of the outcomes its kind may have. */
export function unexpectedOutcomes(outcomes: readonly Outcome[]): string[] {
  const deletedBy = new Map<string, Outcome[]>()
  for (const outcome of outcomes) {
    if (ok(outcome) && outcome.deletes === 'member' && outcome.member) {
      deletedBy.set(outcome.member, [...(deletedBy.get(outcome.member) ?? []), outcome])
    }
  }
  const problems: string[] = []
  for (const outcome of outcomes) {
    if (/database is locked|SQLITE_BUSY/i.test(outcome.output)) problems.push(`${describe(outcome)}: "database is locked"`)
    if (ok(outcome)) continue
    // An update or delete of a member another command deleted meanwhile: not found.
    const racedDelete =
      outcome.code === 'not_found' && outcome.member !== undefined && (deletedBy.get(outcome.member) ?? []).some((other) => other !== outcome)
    if (racedDelete || (outcome.code !== undefined && outcome.allowed.includes(outcome.code))) {
      const exit = outcome.code === 'not_found' ? 5 : 4
      if (outcome.exit !== exit || outcome.body?.error?.exit !== exit) problems.push(`${describe(outcome)}: ${outcome.code} with exit ${outcome.exit}`)
      continue
    }
    problems.push(`${describe(outcome)}: exit ${outcome.exit} ${outcome.code ?? ''}: ${outcome.output.slice(0, 400)}`)
  }
  return problems
}

function describe(outcome: Outcome): string {
  return `driver ${outcome.driver} #${outcome.seq} (${Math.round(outcome.start)}–${Math.round(outcome.end)} ms) lbaas ${outcome.args.join(' ')}`
}

/**
 * A field written by concurrent commands ends with the value of a successful write that no
 * other successful write strictly followed (started after it ended).
 */
function registerProblem(id: string, field: string, actual: unknown, writes: {start: number; end: number; value: unknown}[]): string | undefined {
  if (writes.length === 0) return undefined
  const candidates = writes.filter((write) => !writes.some((other) => other.start > write.end))
  if (candidates.some((write) => JSON.stringify(write.value) === JSON.stringify(actual))) return undefined
  return `${id}.${field} is ${JSON.stringify(actual)}, expected one of ${JSON.stringify(candidates.map((write) => write.value))}`
}

/** The final state is the sum of the successful commands. */
export function stateProblems(world: World, outcomes: readonly Outcome[], final: FinalState): string[] {
  const problems: string[] = []
  const successes = outcomes.filter(ok)
  const writesOf = new Map<string, {start: number; end: number; value: unknown; field: string}[]>()
  for (const [id, values] of world.initial) {
    for (const [field, value] of Object.entries(values)) writesOf.set(id, [...(writesOf.get(id) ?? []), {start: -2, end: -1, value, field}])
  }
  for (const outcome of successes) {
    if (!outcome.target || !outcome.writes) continue
    for (const [field, value] of Object.entries(outcome.writes)) {
      writesOf.set(outcome.target, [...(writesOf.get(outcome.target) ?? []), {start: outcome.start, end: outcome.end, value, field}])
    }
  }
  const objects = new Map<string, Record<string, unknown>>()
  for (const object of [...final.pools, ...final.members, ...final.monitors, ...final.vips]) objects.set(object.id, object as never)
  for (const [id, writes] of writesOf) {
    const object = objects.get(id)
    if (!object) continue
    for (const field of new Set(writes.map((write) => write.field))) {
      const problem = registerProblem(id, field, object[field], writes.filter((write) => write.field === field))
      if (problem) problems.push(problem)
    }
  }

  // Members: those created and not deleted, and no others.
  const created = new Set(successes.filter((outcome) => outcome.op.startsWith('member create')).map((outcome) => outcome.target!))
  const deleted = new Set(successes.filter((outcome) => outcome.deletes === 'member').map((outcome) => outcome.member!))
  const expectedMembers = [...world.initialMembers, ...[...created].filter((id) => !deleted.has(id))].sort()
  const actualMembers = final.members.map((member) => member.id).sort()
  if (JSON.stringify(actualMembers) !== JSON.stringify(expectedMembers)) {
    const missing = expectedMembers.filter((id) => !actualMembers.includes(id))
    const extra = actualMembers.filter((id) => !expectedMembers.includes(id))
    problems.push(`members: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(extra)}`)
  }

  // Monitors: created and not deleted; their associations as their owner left them.
  const monitorsCreated = successes.filter((outcome) => outcome.op === 'monitor create').map((outcome) => outcome.target!)
  const monitorsDeleted = new Set(successes.filter((outcome) => outcome.deletes === 'monitor').map((outcome) => outcome.target!))
  const expectedMonitors = new Set([world.commonMonitor, ...monitorsCreated.filter((id) => !monitorsDeleted.has(id))])
  const actualMonitors = new Set(final.monitors.map((monitor) => monitor.id))
  if ([...expectedMonitors].some((id) => !actualMonitors.has(id)) || actualMonitors.size !== expectedMonitors.size) {
    problems.push(`monitors: expected ${JSON.stringify([...expectedMonitors].sort())}, found ${JSON.stringify([...actualMonitors].sort())}`)
  }
  const associations = new Map<string, Set<string>>()
  const ordered = [...successes].sort((a, b) => a.driver - b.driver || a.seq - b.seq)
  for (const outcome of ordered) {
    if (outcome.contested) continue
    const [topic, verb, monitorId, poolId] = outcome.args
    if (topic !== 'monitor' || (verb !== 'associate' && verb !== 'disassociate')) continue
    const set = associations.get(monitorId) ?? new Set<string>()
    if (verb === 'associate') set.add(poolId)
    else set.delete(poolId)
    associations.set(monitorId, set)
  }
  // The contested association is a register too: associate writes true, disassociate false.
  // (Two disassociations of one association can both succeed: the second finds it being
  // removed, like a second delete of a member, and is a no-op.)
  const contested = successes
    .filter((outcome) => outcome.contested)
    .map((outcome) => ({start: outcome.start, end: outcome.end, value: outcome.contested === 1}))
  const common = final.monitors.find((monitor) => monitor.id === world.commonMonitor)
  const commonAssociated = common?.pools.some((ref) => ref.pool_id === world.shared[0].id) ?? false
  const contestedProblem = registerProblem('the contested association', 'associated', commonAssociated, [{start: -2, end: -1, value: false}, ...contested])
  if (contestedProblem) problems.push(contestedProblem)
  associations.set(world.commonMonitor, new Set(commonAssociated ? [world.shared[0].id] : []))
  for (const monitor of final.monitors) {
    const expected = [...(associations.get(monitor.id) ?? [])].sort()
    const actual = monitor.pools.map((ref) => ref.pool_id).sort()
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(`monitor ${monitor.id} is associated with ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
    }
    for (const ref of monitor.pools) if (ref.status !== 'ACTIVE') problems.push(`association ${monitor.id}/${ref.pool_id} is ${ref.status}`)
  }

  // Nothing pending or failed once every command has returned.
  for (const pool of final.pools) if (pool.status !== 'ACTIVE') problems.push(`pool ${pool.id} is ${pool.status}: ${pool.status_description}`)
  for (const vip of final.vips) if (vip.status !== 'ACTIVE') problems.push(`VIP ${vip.id} is ${vip.status}: ${vip.status_description}`)
  for (const member of final.members) {
    if (member.status !== 'ACTIVE' && member.status !== 'INACTIVE') problems.push(`member ${member.id} is ${member.status}: ${member.status_description}`)
  }
  return problems
}

/**
 * Every deployed pool runs what the state file renders: the file in the run dir is byte for
 * byte the in-process rendering of the pool's graph, the master has exactly one current
 * worker, and the worker's servers carry the weights and admin states of the state file
 * (runtime API changes included).
 */
export async function hostProblems(world: World, poolIds: readonly string[], outcomes: readonly Outcome[] = []): Promise<string[]> {
  const historyOf = (id: string) =>
    outcomes
      .filter((outcome) => outcome.target === id || outcome.member === id || outcome.args.includes(id))
      .sort((a, b) => a.start - b.start)
      .map((outcome) => `\n      ${Math.round(outcome.start)}–${Math.round(outcome.end)} ms exit ${outcome.exit}: ${outcome.args.join(' ')}`)
      .join('')
  const problems: string[] = []
  const executor = new LocalExecutor({runDir: world.runDir, maxconn: safeMaxConn(readFdLimit().hard), ...haproxyAccount(), notify: silentNotifier})
  const store = openStore(world.statePath)
  try {
    for (const poolId of poolIds) {
      const graph = store.read(() => loadPoolGraph(store.db, poolId))
      if (!graph?.vip) {
        problems.push(`pool ${poolId} should be deployed`)
        continue
      }
      const paths = poolPaths(world.runDir, poolId)
      const expected = executor.render(graph).config
      const running = readFileSync(paths.config, 'utf8')
      if (running !== expected) problems.push(`pool ${poolId}: the running haproxy.cfg differs from its rendering:\n${firstDifference(running, expected)}`)
      const proc = await showProc(paths.masterSocket, {timeoutMs: 3_000, connectRetryMs: 2_000})
      if (proc.workers.length !== 1) problems.push(`pool ${poolId}: ${proc.workers.length} current workers`)
      // An admin-down pool's backend is `disabled`: HAProxy lists neither it nor its servers.
      if (!graph.pool.admin_state_up) continue
      const stat = await showStat(paths.statsSocket, {timeoutMs: 3_000})
      // `show stat` keeps the effective weight of a server in maintenance as it was; the
      // weight the server takes when it comes back is the state's user weight.
      const state = parseServersState(await showServersState(paths.statsSocket, {timeoutMs: 3_000}))
      for (const member of graph.members) {
        const server = stat.servers.find((candidate) => candidate.name === member.id)
        const saved = state.servers.find((candidate) => candidate.srv_name === member.id)
        if (!server || !saved) {
          problems.push(`pool ${poolId}: member ${member.id} is not a server of the running HAProxy`)
          continue
        }
        const maintenance = server.status.startsWith('MAINT')
        if (maintenance === member.admin_state_up) problems.push(`pool ${poolId}: server ${member.id} is ${server.status}, admin_state_up ${member.admin_state_up}`)
        if (saved.srv_uweight !== member.weight) {
          problems.push(`pool ${poolId} (${graph.pool.lb_method}): server ${member.id} runs with weight ${saved.srv_uweight}, the state says ${member.weight} (${server.status}); history:${historyOf(member.id)}`)
        }
      }
      const servers = stat.servers.filter((server) => server.backend === poolId).length
      if (servers !== graph.members.length) problems.push(`pool ${poolId}: ${servers} servers running, ${graph.members.length} members`)
    }
  } finally {
    store.close()
  }
  return problems
}

function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n')
  const b = expected.split('\n')
  const index = a.findIndex((line, position) => line !== b[position])
  const at = index === -1 ? a.length : index
  return `  line ${at + 1}: running ${JSON.stringify(a[at])}, rendered ${JSON.stringify(b[at])}`
}
