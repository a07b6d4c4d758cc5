/**
 * `lbaas demo` (SPEC §7): the whole LBaaS v1 workflow on a lab, as an operator would run it:
 * lab up → pool → members → HTTP monitor → associate → VIP → requests through the VIP →
 * one backend fails its health check and the monitor takes it out → it heals and comes
 * back → the commands, ready to paste → cleanup (unless kept). It calls the same services
 * as the commands and records the command line of each call, so what it prints is what it
 * did. It removes only what it created, also when a step fails or it is interrupted.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {stringify} from 'yaml'

import {ConflictError, EXIT, LbaasError, RuntimeFailure, ValidationError} from '../domain/errors.js'
import type {Member, MemberOperatingStatus} from '../domain/types.js'
import {integer} from '../domain/validation.js'
import {formatArgv} from '../util/argv.js'
import {sendBurst} from '../lab/traffic.js'
import {findPoolsByName} from '../store/pools.js'
import {findSubnetsByName, subnetUsers} from '../store/subnets.js'
import {findVipsByName} from '../store/vips.js'
import {refreshPoolHealth} from './apply.js'
import type {AppContext} from './context.js'
import {LAB_DEFAULTS, labDown, labSetHealth, labUp, type LabBackend} from './lab.js'
import {createMember} from './members.js'
import {associateMonitor, createMonitor, deleteMonitor} from './monitors.js'
import {createPool, deletePool} from './pools.js'
import {subnetNetwork} from './subnets.js'
import {createVip, deleteVip} from './vips.js'
import {runTlsDemo, type TlsDemoReport} from './demo-tls.js'

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
}

export const silentDemoReporter: DemoReporter = {heading: async () => {}, note: async () => {}, spread: async () => {}}

const lbaas = (...argv: string[]) => `lbaas ${formatArgv(argv)}`

interface Created {
  subnet?: string
  pool?: string
  monitorId?: string
  vip?: string
}

/** Refuses before changing anything when the demo would collide with the operator's own objects. */
/** What the demo needs before it opens the state: root, for namespaces, bridges and HAProxy. */
export function assertDemoPreconditions(uid = process.getuid?.()): void {
  if (uid !== 0) {
    throw new LbaasError('needs_root', EXIT.runtime, 'lbaas demo needs root: it makes network namespaces, bridges and HAProxy processes', 'run it with sudo')
  }
}

function preflight(ctx: AppContext, subnetName: string, cidr: string | undefined): {subnetExists: boolean} {
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
  if (findPoolsByName(db, DEMO_DEFAULTS.pool).length > 0 || findVipsByName(db, DEMO_DEFAULTS.vip).length > 0) {
    throw new ConflictError(
      'duplicate_name',
      `a pool ${DEMO_DEFAULTS.pool} or VIP ${DEMO_DEFAULTS.vip} already exists (left by \`lbaas demo --keep\`?)`,
      `remove it first: \`lbaas vip delete ${DEMO_DEFAULTS.vip} --yes && lbaas pool delete ${DEMO_DEFAULTS.pool} --yes\``,
    )
  }
  return {subnetExists: subnet !== undefined}
}

/** By name where the demo named things; the monitor by id, or by `"$MONITOR"` in the pasted script. */
function cleanupCommands(created: Created, subnetName: string, monitorRef = created.monitorId): string[] {
  const commands: string[] = []
  if (created.vip) commands.push(lbaas('vip', 'delete', DEMO_DEFAULTS.vip, '--yes'))
  if (created.pool) commands.push(lbaas('pool', 'delete', DEMO_DEFAULTS.pool, '--yes'))
  if (monitorRef) commands.push(`${lbaas('monitor', 'delete')} ${monitorRef === '"$MONITOR"' ? monitorRef : formatArgv([monitorRef])} --yes`)
  if (created.subnet) commands.push(lbaas('lab', 'down', ...labSubnetFlag(subnetName), '--yes'))
  return commands
}

function labSubnetFlag(subnetName: string): string[] {
  return subnetName === LAB_DEFAULTS.subnet ? [] : ['--subnet', subnetName]
}

/** Deletes what the demo made, newest first; carries on past failures and reports them. */
async function cleanUp(ctx: AppContext, created: Created, subnetName: string): Promise<void> {
  const steps: [string, (() => Promise<unknown>) | undefined][] = [
    [`delete VIP ${DEMO_DEFAULTS.vip}`, created.vip ? () => deleteVip(ctx, created.vip!) : undefined],
    [`delete pool ${DEMO_DEFAULTS.pool} and its members`, created.pool ? () => deletePool(ctx, created.pool!) : undefined],
    [`delete monitor ${created.monitorId}`, created.monitorId ? () => deleteMonitor(ctx, created.monitorId!) : undefined],
    [`stop the lab and delete subnet ${subnetName}`, created.subnet ? () => labDown(ctx, subnetName) : undefined],
  ]
  for (const [title, work] of steps) {
    if (!work) continue
    try {
      await ctx.notify.step(title, work)
    } catch (error) {
      ctx.notify.warn(`cleanup: ${title} failed: ${(error as Error).message}`)
    }
  }
}

/** Waits `ms`; an abort ends the wait with the signal's reason (the demo's `cancelled`), not an AbortError. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, {signal})
  } catch (error) {
    throw signal?.aborted ? signal.reason : error
  }
}

async function memberStatuses(ctx: AppContext, poolId: string): Promise<Member[]> {
  return (await refreshPoolHealth(ctx, poolId))?.graph.members ?? []
}

/** Polls live health until `done` holds; returns the seconds it took. */
async function waitForHealth(
  ctx: AppContext,
  poolId: string,
  done: (members: Member[]) => boolean,
  what: string,
  signal?: AbortSignal,
): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (done(await memberStatuses(ctx, poolId))) return (performance.now() - started) / 1000
    if (performance.now() - started > HEALTH_WAIT_MS) {
      throw new RuntimeFailure('demo_timeout', `${what}: no change after ${HEALTH_WAIT_MS / 1000} s`, 'see `lbaas status` and `lbaas pool stats`')
    }
    await pause(POLL_MS, signal)
  }
}

export async function runDemo(ctx: AppContext, input: DemoInput, report: DemoReporter = silentDemoReporter): Promise<DemoReport> {
  const subnetName = input.subnet ?? DEMO_DEFAULTS.subnet
  const cidr = input.cidr ?? DEMO_DEFAULTS.cidr
  const backendCount = input.backends === undefined ? DEMO_DEFAULTS.backends : integer('backends', input.backends, 2, 10)
  const requests = input.requests === undefined ? DEMO_DEFAULTS.requests : integer('requests', input.requests, 1, 1000)
  const {signal} = input
  const {subnetExists} = preflight(ctx, subnetName, input.cidr)
  const created: Created = {}
  const commands: string[] = []
  const ran = (command: string) => commands.push(command)
  const keep = Boolean(input.keep)
  let finished = false
  try {
    await report.heading(`1. Lab: ${backendCount} backend hosts on subnet ${subnetName}`)
    const labFlags = [
      ...labSubnetFlag(subnetName),
      ...(cidr === LAB_DEFAULTS.cidr ? [] : ['--cidr', cidr]),
      ...(backendCount === LAB_DEFAULTS.backends ? [] : ['--backends', String(backendCount)]),
    ]
    const backends: LabBackend[] = (await labUp(ctx, {subnet: subnetName, cidr, backends: backendCount})).slice(0, backendCount)
    if (!subnetExists) created.subnet = subnetName
    ran(lbaas('lab', 'up', ...labFlags))
    await report.note(
      [...backends.map((backend) => `${backend.name}  ${backend.address}:${backend.port}`), 'each answers with its own name; GET /healthz says whether it is healthy'].join('\n'),
    )
    signal?.throwIfAborted()

    const poolName = DEMO_DEFAULTS.pool
    await report.heading(`2. Pool ${poolName} (HTTP, ROUND_ROBIN) with ${backends.length} members`)
    const pool = await createPool(ctx, {name: poolName, subnet: subnetName, protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    created.pool = pool.id
    ran(lbaas('pool', 'create', '--name', poolName, '--subnet', subnetName, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'))
    for (const backend of backends) {
      await createMember(ctx, pool.id, {address: backend.address, protocol_port: backend.port})
      ran(lbaas('member', 'create', poolName, '--address', backend.address, '--protocol-port', String(backend.port)))
    }
    signal?.throwIfAborted()

    const m = DEMO_MONITOR
    await report.heading(`3. Health monitor: ${m.type} GET ${m.url_path} every ${m.delay} s, timeout ${m.timeout} s, ${m.max_retries} retries; associated with ${poolName}`)
    const monitor = await createMonitor(ctx, m)
    created.monitorId = monitor.id
    ran(
      `MONITOR=$(${lbaas('monitor', 'create', '--type', m.type, '--delay', String(m.delay), '--timeout', String(m.timeout), '--max-retries', String(m.max_retries), '--url-path', m.url_path, '--expected-codes', m.expected_codes, '-f', 'value', '-c', 'id')})`,
    )
    await associateMonitor(ctx, monitor.id, pool.id)
    ran(`${lbaas('monitor', 'associate')} "$MONITOR" ${formatArgv([poolName])}`)
    signal?.throwIfAborted()

    const vipName = DEMO_DEFAULTS.vip
    await report.heading(`4. VIP ${vipName}: deploys HAProxy for ${poolName} in its own network namespace`)
    const vip = await createVip(ctx, pool.id, {name: vipName, protocol: 'HTTP', protocol_port: DEMO_DEFAULTS.port, subnet: subnetName})
    created.vip = vip.id
    ran(
      `VIP=$(${lbaas('vip', 'create', poolName, '--name', vipName, '--protocol', 'HTTP', '--protocol-port', String(DEMO_DEFAULTS.port), '--subnet', subnetName, '-f', 'value', '-c', 'address')})`,
    )
    await report.note(`serving on http://${vip.address}:${vip.protocol_port}/`)
    const deployedAt = performance.now()
    const isOnline = (member: Member) => member.operating_status === 'ONLINE'
    await ctx.notify.step('wait until every member is ONLINE', () =>
      waitForHealth(ctx, pool.id, (members) => members.length === backends.length && members.every(isOnline), 'members coming up', signal),
    )
    ran(lbaas('status', poolName))

    const burst = async (title: string): Promise<Spread> => {
      const result = await ctx.notify.step(`send ${requests} requests to ${vip.address}:${vip.protocol_port}`, () =>
        sendBurst({host: vip.address, port: vip.protocol_port, count: requests, signal}),
      )
      const members = await memberStatuses(ctx, pool.id)
      const spread: Spread = {
        title,
        sent: result.sent,
        failed: result.failed,
        rows: backends.map((backend) => ({
          backend: backend.name,
          address: backend.address,
          operating_status: members.find((member) => member.address === backend.address)?.operating_status ?? 'UNKNOWN',
          requests: result.answeredBy.get(backend.name) ?? 0,
        })),
      }
      await report.spread(spread)
      return spread
    }
    const trafficCommand = `for i in $(seq ${requests}); do curl -s "http://$VIP/"; done | sort | uniq -c`
    const spreads: Spread[] = []

    await report.heading(`5. ${requests} requests through the VIP, one connection each`)
    spreads.push(await burst('all backends healthy'))
    ran(trafficCommand)

    const victim = backends[1]
    const expected = m.delay * m.max_retries
    // HAProxy starts a server at the lowest "up" health, one failed check away from down; after
    // max_retries passed checks it needs max_retries failures, which is what the demo shows.
    const settled = deployedAt + (expected + m.delay / 2) * 1000
    if (performance.now() < settled) {
      await ctx.notify.step(`let the monitor settle (${m.max_retries} passed checks)`, () => pause(Math.max(0, settled - performance.now()), signal))
    }
    await report.heading(`6. ${victim.name} starts failing its health check (/healthz answers 500)`)
    labSetHealth(ctx, victim.name, false)
    ran(lbaas('lab', 'fail', victim.name))
    ran(`sleep ${expected}   # delay × max_retries: the monitor takes it out`)
    const outSeconds = await ctx.notify.step(`wait for the monitor to take ${victim.name} out`, () =>
      waitForHealth(ctx, pool.id, (members) => members.some((member) => member.address === victim.address && member.operating_status === 'OFFLINE'), `${victim.name} going OFFLINE`, signal),
    )
    ran(lbaas('status', poolName))
    await report.note(
      `the monitor took ${victim.name} out after ${outSeconds.toFixed(1)} s: ${m.max_retries} failed checks ${m.delay} s apart ` +
        `(expected: at most delay × max_retries = ${m.delay} s × ${m.max_retries} = ${expected} s)`,
    )
    spreads.push(await burst(`${victim.name} failing its health check`))
    ran(trafficCommand)

    await report.heading(`7. ${victim.name} healthy again`)
    labSetHealth(ctx, victim.name, true)
    ran(lbaas('lab', 'heal', victim.name))
    ran(`sleep ${expected}   # max_retries passed checks bring it back`)
    const inSeconds = await ctx.notify.step(`wait for the monitor to bring ${victim.name} back`, () =>
      waitForHealth(ctx, pool.id, (members) => members.every(isOnline), `${victim.name} coming back ONLINE`, signal),
    )
    await report.note(`${victim.name} was back after ${inSeconds.toFixed(1)} s: ${m.max_retries} passed checks ${m.delay} s apart (expected: at most ${expected} s)`)
    spreads.push(await burst(`${victim.name} healed`))
    ran(trafficCommand)

    const tls = input.tls ? await runTlsDemo(ctx, {subnet: subnetName, backends, heading: 8, keep, ran}, report) : undefined

    finished = true
    return {
      subnet: {name: subnetName, cidr, created: created.subnet !== undefined},
      pool: poolName,
      vip: {name: vipName, address: vip.address, protocol_port: vip.protocol_port},
      monitor: DEMO_MONITOR,
      spreads,
      taken_out: {backend: victim.name, seconds: round(outSeconds), expected_seconds: expected},
      back_in: {backend: victim.name, seconds: round(inSeconds), expected_seconds: expected},
      commands: keep ? commands : [...commands, ...cleanupCommands(created, subnetName, '"$MONITOR"')],
      kept: keep,
      cleanup_commands: cleanupCommands(created, subnetName),
      apply_file: demoApplyFile(subnetName, backends, vip),
      ...(tls ? {tls} : {}),
    }
  } finally {
    const left = subnetExists ? ` (subnet ${subnetName} existed before the demo and stays)` : ''
    if (!keep) {
      await report.heading(finished ? `${input.tls ? 10 : 8}. Cleanup: removing what the demo created${left}` : `The demo stopped; removing what it created${left}`)
      await cleanUp(ctx, created, subnetName)
    } else if (!finished) {
      await report.note(`kept what the demo created (--keep); to remove it:\n  ${cleanupCommands(created, subnetName).join('\n  ')}`)
    }
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10
}
