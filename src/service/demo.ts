/**
 * `lbaas demo` (SPEC §7): the whole LBaaS v1 workflow on a lab, as an operator would run it:
 * lab up → pool → members → HTTP monitor → associate → VIP → requests through the VIP →
 * one backend fails its health check and the monitor takes it out → it heals and comes
 * back → the commands, ready to paste → cleanup (unless kept). Each step is one `lbaas`
 * command line written once (a step table, `demo-steps.ts`): it runs the same service as
 * the command, from the values of that line, and the script it prints is made of the same
 * lines. It removes only what it created, also when a step fails or it is interrupted.
 */
import {stringify} from 'yaml'

import {ConflictError, EXIT, LbaasError, RuntimeFailure, ValidationError} from '../domain/errors.js'
import type {Member, MemberOperatingStatus} from '../domain/types.js'
import {integer} from '../domain/validation.js'
import type {BurstResult} from '../lab/traffic.js'
import {findPoolsByName} from '../store/pools.js'
import {findSubnetsByName, subnetUsers} from '../store/subnets.js'
import {findVipsByName} from '../store/vips.js'
import type {AppContext} from './context.js'
import {deleteStep, hostDemo, labDownStep, labUpStep, literalLine, memberCreateStep, poolCreateStep, runCleanup, vipCreateStep, type DemoHost} from './demo-commands.js'
import {DemoScript, scriptLine, shellRef, type DemoStep} from './demo-steps.js'
import {runTlsDemo, type TlsDemoReport} from './demo-tls.js'
import {LAB_DEFAULTS} from './lab.js'
import {associateMonitor, createMonitor, deleteMonitor} from './monitors.js'
import {deletePool} from './pools.js'
import {subnetNetwork} from './subnets.js'
import {deleteVip} from './vips.js'

export const DEMO_DEFAULTS = {
  subnet: LAB_DEFAULTS.subnet,
  cidr: LAB_DEFAULTS.cidr,
  backends: LAB_DEFAULTS.backends,
  requests: 60,
  pool: 'demo-web',
  vip: 'demo-web-vip',
  port: 80,
}

/** Short, so the demo shows a failover in seconds: HAProxy's inter 1s, fall/rise 2. */
export const DEMO_MONITOR = {type: 'HTTP', delay: 1, timeout: 1, max_retries: 2, url_path: '/healthz', expected_codes: '200'} as const

/** How often health is read while waiting for the monitor, and the longest wait. */
const POLL_MS = 200
const HEALTH_WAIT_MS = 20_000

export interface DemoInput {
  subnet?: string
  cidr?: string
  backends?: unknown
  requests?: unknown
  keep?: boolean
  /** Also tell the TLS story (SPEC §9): lab CA, HTTPS VIP, verified request, rotation. */
  tls?: boolean
  /** Aborting stops the demo at the next step; it still cleans up. */
  signal?: AbortSignal
  /** Whose demo this is (root is a precondition); default: this process's. */
  uid?: number
}

export interface SpreadRow {
  backend: string
  address: string
  operating_status: MemberOperatingStatus | 'UNKNOWN'
  requests: number
}

export interface Spread {
  title: string
  sent: number
  failed: number
  rows: SpreadRow[]
}

export interface HealthChange {
  backend: string
  /** From `lab fail`/`lab heal` until lbaas read the new health from HAProxy. */
  seconds: number
  /** delay × max_retries: what HAProxy needs (fall and rise both come from max_retries). */
  expected_seconds: number
}

export interface DemoReport {
  subnet: {name: string; cidr: string; created: boolean}
  pool: string
  vip: {name: string; address: string; protocol_port: number}
  monitor: typeof DEMO_MONITOR
  spreads: Spread[]
  taken_out: HealthChange
  back_in: HealthChange
  /** Every `lbaas` command the demo ran, in order, as a script ready to paste (with the waits it needs). */
  commands: string[]
  kept: boolean
  /** What removes the demo (printed with --keep; run by the demo otherwise). */
  cleanup_commands: string[]
  /** The same pool, monitor and VIP as one apply file (SPEC §8), for `lbaas apply -f` after `lbaas lab up`. */
  apply_file: string
  /** `--tls`: the HTTPS part of the story. */
  tls?: TlsDemoReport
}

/** The demo's objects as an apply file: the end of the story is "or all of this in one file". */
export function demoApplyFile(subnet: string, backends: readonly {address: string; port: number}[], vip: {address: string; protocol_port: number}): string {
  return stringify(
    {
      apiVersion: 'lbaas/v1',
      stack: 'demo',
      monitors: [{name: 'demo-http', ...DEMO_MONITOR}],
      pools: [
        {
          name: DEMO_DEFAULTS.pool,
          subnet,
          protocol: 'HTTP',
          lb_method: 'ROUND_ROBIN',
          monitors: ['demo-http'],
          members: backends.map((backend) => ({address: backend.address, protocol_port: backend.port})),
          vip: {name: DEMO_DEFAULTS.vip, protocol_port: vip.protocol_port, address: vip.address},
        },
      ],
    },
    {lineWidth: 0, collectionStyle: 'block'},
  )
}

/** What the demo tells the operator as it goes (the command renders it; --json: nothing). Awaited, so it never interleaves with progress. */
export interface DemoReporter {
  heading(text: string): Promise<void>
  note(text: string): Promise<void>
  spread(spread: Spread): Promise<void>
  /** Each lbaas step as it ran: its argv and the line the script prints for it. */
  ran?(argv: readonly string[], line: string): void
}

export const silentDemoReporter: DemoReporter = {heading: async () => {}, note: async () => {}, spread: async () => {}}

interface Created {
  subnet?: string
  pool?: string
  monitorId?: string
  vip?: string
}

/** What the demo needs before it opens the state: root, for namespaces, bridges and HAProxy. */
export function assertDemoPreconditions(uid = process.getuid?.()): void {
  if (uid !== 0) {
    throw new LbaasError('needs_root', EXIT.runtime, 'lbaas demo needs root: it makes network namespaces, bridges and HAProxy processes', 'run it with sudo')
  }
}

/** Refuses before changing anything when the demo would collide with the operator's own objects. */
export function preflight(ctx: AppContext, subnetName: string, cidr: string | undefined, names: {pool: string; vip: string} = DEMO_DEFAULTS): {subnetExists: boolean} {
  const {db} = ctx.store
  const [subnet] = findSubnetsByName(db, subnetName)
  const retry = '`lbaas demo --subnet NAME --cidr CIDR` runs it on a lab of its own'
  if (subnet) {
    if (cidr !== undefined && subnetNetwork(cidr).cidr !== subnet.cidr) {
      throw new ValidationError('cidr', `subnet ${subnetName} exists with network ${subnet.cidr}, not ${cidr}`, retry)
    }
    const users = subnetUsers(db, subnet.id)
    if (users.pools.length > 0 || users.vips.length > 0) {
      throw new ConflictError('in_use', `subnet ${subnetName} is in use by pools ${users.pools.join(', ')}; the demo needs a lab nobody uses`, retry)
    }
    if (!subnet.managed) throw new ConflictError('not_a_lab', `subnet ${subnetName} uses an existing bridge; the demo needs a lab lbaas manages`, retry)
  }
  if (findPoolsByName(db, names.pool).length > 0 || findVipsByName(db, names.vip).length > 0) {
    throw new ConflictError(
      'duplicate_name',
      `a pool ${names.pool} or VIP ${names.vip} already exists (left by \`lbaas demo --keep\`?)`,
      `remove it first: \`lbaas vip delete ${names.vip} --yes && lbaas pool delete ${names.pool} --yes\``,
    )
  }
  return {subnetExists: subnet !== undefined}
}

/** What removes the demo, newest first: by name where the demo named things, the monitor by id (`"$MONITOR"` in the script). */
function cleanupSteps(ctx: AppContext, host: DemoHost, created: Created, subnetName: string): DemoStep<unknown>[] {
  const steps: DemoStep<unknown>[] = []
  if (created.vip) steps.push(deleteStep(ctx, 'vip', DEMO_DEFAULTS.vip, `delete VIP ${DEMO_DEFAULTS.vip}`, deleteVip))
  if (created.pool) steps.push(deleteStep(ctx, 'pool', DEMO_DEFAULTS.pool, `delete pool ${DEMO_DEFAULTS.pool} and its members`, deletePool))
  if (created.monitorId) steps.push(deleteStep(ctx, 'monitor', shellRef('MONITOR', created.monitorId), `delete monitor ${created.monitorId}`, deleteMonitor))
  if (created.subnet) steps.push(labDownStep(ctx, host, subnetName))
  return steps
}

/** Polls live health until `done` holds; returns the seconds it took. */
async function waitForHealth(
  ctx: AppContext,
  host: DemoHost,
  poolId: string,
  done: (members: Member[]) => boolean,
  what: string,
  signal?: AbortSignal,
): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (done(await host.memberStatuses(ctx, poolId))) return (performance.now() - started) / 1000
    if (performance.now() - started > HEALTH_WAIT_MS) {
      throw new RuntimeFailure('demo_timeout', `${what}: no change after ${HEALTH_WAIT_MS / 1000} s`, 'see `lbaas status` and `lbaas pool stats`')
    }
    await host.sleep(POLL_MS, signal)
  }
}

export async function runDemo(
  ctx: AppContext,
  input: DemoInput,
  report: DemoReporter = silentDemoReporter,
  host: DemoHost = hostDemo,
): Promise<DemoReport> {
  // Preconditions: checked before anything changes.
  assertDemoPreconditions(input.uid)
  const subnetName = input.subnet ?? DEMO_DEFAULTS.subnet
  const cidr = input.cidr ?? DEMO_DEFAULTS.cidr
  const backendCount = input.backends === undefined ? DEMO_DEFAULTS.backends : integer('backends', input.backends, 2, 10)
  const requests = input.requests === undefined ? DEMO_DEFAULTS.requests : integer('requests', input.requests, 1, 1000)
  const {signal} = input
  const {subnetExists} = preflight(ctx, subnetName, input.cidr)
  const created: Created = {}
  const script = new DemoScript(report)
  const keep = Boolean(input.keep)
  let finished = false
  try {
    const backends = await script.run(labUpStep(ctx, host, {subnet: subnetName, cidr, backends: backendCount}, `1. Lab: ${backendCount} backend hosts on subnet ${subnetName}`))
    if (!subnetExists) created.subnet = subnetName
    await report.note(
      [...backends.map((backend) => `${backend.name}  ${backend.address}:${backend.port}`), 'each answers with its own name; GET /healthz says whether it is healthy'].join('\n'),
    )
    signal?.throwIfAborted()

    const poolName = DEMO_DEFAULTS.pool
    const pool = await script.run(poolCreateStep(ctx, {name: poolName, subnet: subnetName}, `2. Pool ${poolName} (HTTP, ROUND_ROBIN) with ${backends.length} members`))
    created.pool = pool.id
    for (const backend of backends) await script.run(memberCreateStep(ctx, poolName, backend))
    signal?.throwIfAborted()

    const m = DEMO_MONITOR
    const monitor = await script.run({
      heading: `3. Health monitor: ${m.type} GET ${m.url_path} every ${m.delay} s, timeout ${m.timeout} s, ${m.max_retries} retries; associated with ${poolName}`,
      command: ['monitor', 'create'],
      argv: ['--type', m.type, '--delay', String(m.delay), '--timeout', String(m.timeout), '--max-retries', String(m.max_retries), '--url-path', m.url_path, '--expected-codes', m.expected_codes],
      capture: {variable: 'MONITOR', column: 'id'},
      run: (args) =>
        createMonitor(ctx, {
          type: args.flag('--type'),
          delay: args.number('--delay'),
          timeout: args.number('--timeout'),
          max_retries: args.number('--max-retries'),
          url_path: args.flag('--url-path'),
          expected_codes: args.flag('--expected-codes'),
        }),
    })
    created.monitorId = monitor.id
    await script.run({command: ['monitor', 'associate'], argv: [shellRef('MONITOR', monitor.id), poolName], run: (args) => associateMonitor(ctx, args.positional(), args.positional())})
    signal?.throwIfAborted()

    const vipName = DEMO_DEFAULTS.vip
    const vip = await script.run(
      vipCreateStep(ctx, {pool: poolName, name: vipName, subnet: subnetName, port: DEMO_DEFAULTS.port}, `4. VIP ${vipName}: deploys HAProxy for ${poolName} in its own network namespace`),
    )
    created.vip = vip.id
    await report.note(`serving on http://${vip.address}:${vip.protocol_port}/`)
    const deployedAt = performance.now()
    const isOnline = (member: Member) => member.operating_status === 'ONLINE'
    /** `lbaas status POOL`, read until `done` holds (the command shows the same live health once). */
    const statusUntil = (title: string, done: (members: Member[]) => boolean, what: string): DemoStep<number> => ({
      command: ['status'],
      argv: [poolName],
      run: (args) => ctx.notify.step(title, () => waitForHealth(ctx, host, pool.id, done, `${args.positional()}: ${what}`, signal)),
    })
    await script.run(statusUntil('wait until every member is ONLINE', (members) => members.length === backends.length && members.every(isOnline), 'members coming up'))

    const burst = (title: string) => burstThroughVip(ctx, {host, report, script, poolId: pool.id, vip, requests, backends, signal}, title)
    const spreads: Spread[] = []

    await report.heading(`5. ${requests} requests through the VIP, one connection each`)
    spreads.push(await burst('all backends healthy'))

    const victim = backends[1]
    const expected = m.delay * m.max_retries
    // HAProxy starts a server at the lowest "up" health, one failed check away from down; after
    // max_retries passed checks it needs max_retries failures, which is what the demo shows.
    const settled = deployedAt + (expected + m.delay / 2) * 1000
    if (performance.now() < settled) {
      await ctx.notify.step(`let the monitor settle (${m.max_retries} passed checks)`, () => host.sleep(Math.max(0, settled - performance.now()), signal))
    }
    const labHealth = (healthy: boolean, heading: string): DemoStep<unknown> => ({
      heading,
      command: ['lab', healthy ? 'heal' : 'fail'],
      argv: [victim.name],
      run: async (args) => host.labSetHealth(ctx, args.positional(), healthy),
    })
    await script.run(labHealth(false, `6. ${victim.name} starts failing its health check (/healthz answers 500)`))
    script.shell(`sleep ${expected}   # delay × max_retries: the monitor takes it out`)
    const isOut = (members: Member[]) => members.some((member) => member.address === victim.address && member.operating_status === 'OFFLINE')
    const outSeconds = await script.run(statusUntil(`wait for the monitor to take ${victim.name} out`, isOut, `${victim.name} going OFFLINE`))
    await report.note(
      `the monitor took ${victim.name} out after ${outSeconds.toFixed(1)} s: ${m.max_retries} failed checks ${m.delay} s apart ` +
        `(expected: at most delay × max_retries = ${m.delay} s × ${m.max_retries} = ${expected} s)`,
    )
    spreads.push(await burst(`${victim.name} failing its health check`))

    await script.run(labHealth(true, `7. ${victim.name} healthy again`))
    script.shell(`sleep ${expected}   # max_retries passed checks bring it back`)
    const inSeconds = await ctx.notify.step(`wait for the monitor to bring ${victim.name} back`, () =>
      waitForHealth(ctx, host, pool.id, (members) => members.every(isOnline), `${victim.name} coming back ONLINE`, signal),
    )
    await report.note(`${victim.name} was back after ${inSeconds.toFixed(1)} s: ${m.max_retries} passed checks ${m.delay} s apart (expected: at most ${expected} s)`)
    spreads.push(await burst(`${victim.name} healed`))

    const tls = input.tls ? await runTlsDemo(ctx, {subnet: subnetName, backends, heading: 8, keep, script}, report) : undefined

    finished = true
    const cleanup = cleanupSteps(ctx, host, created, subnetName)
    return {
      subnet: {name: subnetName, cidr, created: created.subnet !== undefined},
      pool: poolName,
      vip: {name: vipName, address: vip.address, protocol_port: vip.protocol_port},
      monitor: DEMO_MONITOR,
      spreads,
      taken_out: {backend: victim.name, seconds: round(outSeconds), expected_seconds: expected},
      back_in: {backend: victim.name, seconds: round(inSeconds), expected_seconds: expected},
      // The cleanup steps below run (unless kept) with the very lines printed here.
      commands: keep ? [...script.lines] : [...script.lines, ...cleanup.map(scriptLine)],
      kept: keep,
      cleanup_commands: cleanup.map(literalLine),
      apply_file: demoApplyFile(subnetName, backends, vip),
      ...(tls ? {tls} : {}),
    }
  } finally {
    const left = subnetExists ? ` (subnet ${subnetName} existed before the demo and stays)` : ''
    const cleanup = cleanupSteps(ctx, host, created, subnetName)
    if (!keep) {
      await report.heading(finished ? `${input.tls ? 10 : 8}. Cleanup: removing what the demo created${left}` : `The demo stopped; removing what it created${left}`)
      await runCleanup(ctx, script, cleanup)
    } else if (!finished) {
      await report.note(`kept what the demo created (--keep); to remove it:\n  ${cleanup.map(literalLine).join('\n  ')}`)
    }
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10
}

/** What a burst through the demo's VIP needs; `statusContext` reads the members' health (the controller's, for --ha). */
export interface VipBurst {
  host: DemoHost
  report: DemoReporter
  script: DemoScript
  statusContext?: AppContext
  poolId: string
  vip: {address: string; protocol_port: number}
  requests: number
  backends: readonly {name: string; address: string}[]
  signal?: AbortSignal
}

/**
 * Sends `requests` requests through the VIP, one connection each, and reports which backend
 * answered how many, beside each member's health (UNKNOWN when it cannot be read).
 */
export async function burstThroughVip(ctx: AppContext, burst: VipBurst, title: string): Promise<Spread> {
  const {host, vip, requests} = burst
  const result: BurstResult = await ctx.notify.step(`send ${requests} requests to ${vip.address}:${vip.protocol_port}`, () =>
    host.sendBurst({host: vip.address, port: vip.protocol_port, count: requests, signal: burst.signal}),
  )
  const members = await host.memberStatuses(burst.statusContext ?? ctx, burst.poolId).catch(() => [])
  const spread: Spread = {
    title,
    sent: result.sent,
    failed: result.failed,
    rows: burst.backends.map((backend) => ({
      backend: backend.name,
      address: backend.address,
      operating_status: members.find((member) => member.address === backend.address)?.operating_status ?? 'UNKNOWN',
      requests: result.answeredBy.get(backend.name) ?? 0,
    })),
  }
  await burst.report.spread(spread)
  burst.script.shell(`for i in $(seq ${requests}); do curl -s "http://$VIP/"; done | sort | uniq -c`)
  return spread
}
