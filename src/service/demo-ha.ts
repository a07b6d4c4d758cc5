/**
 * `lbaas demo --ha` (SPEC §11) on one host: a private gearmand, two `lbaas serve-worker`
 * agents (each with its own state file and run dir), an active/standby pool with one peer
 * on each, a VIP, traffic, which peer is MASTER (`pool show`), the MASTER's HAProxy killed
 * (only the process lbaas proved it started: SPEC §4.7), the VIP answering from the other
 * peer with the measured gap, the first peer back as BACKUP (the agent's watchdog restarts
 * its HAProxy; `nopreempt` leaves the VIP where it is), cleanup. Steps from the step table
 * (`demo-steps.ts`): what it prints is what ran.
 */
import {existsSync, rmSync} from 'node:fs'

import {RuntimeFailure, ValidationError} from '../domain/errors.js'
import type {Pool} from '../domain/types.js'
import {integer} from '../domain/validation.js'
import {freeLoopbackPort, startDaemon, waitForListener, type Daemon} from '../host/daemon.js'
import {crashHaproxy, provenHaproxy} from '../host/haproxy-process.js'
import {haNamespaceFor, poolPaths} from '../host/names.js'
import {namespaceExists} from '../host/netns.js'
import {forgetAgentRow, getAgentRow} from '../store/agents.js'
import {AgentExecutor} from '../agent/executor.js'
import {GearmanAgentTransport, gearmanSettingsFromEnv, type AgentTransport} from '../agent/transport.js'
import {makePrivateDirs} from '../util/fs.js'
import type {AppContext} from './context.js'
import {
  deleteStep,
  hostDemo,
  labDownStep,
  labUpStep,
  memberCreateStep,
  poolCreateStep,
  runCleanup,
  vipCreateStep,
  type DemoHost,
} from './demo-commands.js'
import {DemoScript, scriptLine, type DemoStep} from './demo-steps.js'
import {assertDemoPreconditions, burstThroughVip, DEMO_DEFAULTS, preflight, silentDemoReporter, type DemoReporter, type Spread} from './demo.js'
import {haExecutorFor} from './ha.js'
import {showPoolLive, deletePool} from './pools.js'
import {deleteVip} from './vips.js'
import {openAppContext} from './wiring.js'

export const HA_DEMO = {pool: 'demo-ha', vip: 'demo-ha-vip', agents: {a: 'demo-agent-a', b: 'demo-agent-b'}, backends: 2} as const

type Role = 'a' | 'b'
const ROLES: readonly Role[] = ['a', 'b']
const other = (role: Role): Role => (role === 'a' ? 'b' : 'a')

const WAIT = {agents: 30_000, master: 30_000, answer: 30_000, backup: 45_000} as const
const POLL_MS = 200

export interface HaDemoInput {
  subnet?: string
  cidr?: string
  requests?: unknown
  /** Not with --ha: refused (the agents are the demo's children; the lab has two backends; TLS is another story). */
  keep?: boolean
  tls?: boolean
  backends?: unknown
  /** `[node, bin/run.js]`: how the agents' `lbaas serve-worker` is started. */
  cli: readonly string[]
  signal?: AbortSignal
  /** Whose demo this is (root is a precondition); default: this process's. */
  uid?: number
}

export interface HaPeerReport {
  role: Role
  agent: string
  address: string
  state: string | null
}

export interface HaDemoReport {
  subnet: {name: string; cidr: string; created: boolean}
  pool: string
  pool_id: string
  vip: {name: string; address: string; protocol_port: number}
  gearmand: string
  /** Who held the VIP before the crash, and after. */
  master_before: HaPeerReport
  master_after: HaPeerReport
  /** The PIDs of the MASTER's HAProxy that were killed (master process and workers). */
  killed_pids: number[]
  /** From the kill until the VIP answered again. */
  failover_seconds: number
  /** From the kill until the killed peer was BACKUP again (the agent's watchdog). */
  recovery_seconds: number
  /** The peers at the end: the killed one BACKUP, the other still MASTER. */
  peers_after_recovery: HaPeerReport[]
  spreads: Spread[]
  commands: string[]
  kept: false
}

interface Made {
  subnet?: boolean
  gearmand?: Daemon
  agents: Partial<Record<Role, Daemon>>
  pool?: string
  vip?: boolean
}

interface HaPool extends Pool {
  peers?: HaPeerReport[]
  master?: Role | null
}

/**
 * The controller for the demo's pool: agents are reached through the private gearmand (an
 * HA pool through both peers; after `pool delete`, its leftovers through its first agent).
 */
function controllerContext(ctx: AppContext, transport: AgentTransport): AppContext {
  return {
    ...ctx,
    agentTransport: transport,
    executorFor: (pool) =>
      haExecutorFor(ctx.store, transport, pool.id) ?? (pool.agent === 'local' ? ctx.executorFor(pool) : new AgentExecutor(pool.agent, transport, ctx.store)),
  }
}

async function until<T>(host: DemoHost, what: string, timeoutMs: number, probe: () => Promise<T | undefined>, signal?: AbortSignal): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new RuntimeFailure('demo_timeout', `${what}: not after ${timeoutMs / 1000} s`, 'see `lbaas pool show demo-ha` and the agents\' logs in the run dir')
    await host.sleep(POLL_MS, signal)
  }
}

export async function runHaDemo(ctx: AppContext, input: HaDemoInput, report: DemoReporter = silentDemoReporter, host: DemoHost = hostDemo): Promise<HaDemoReport> {
  // Preconditions: checked before anything changes.
  assertDemoPreconditions(input.uid)
  const subnetName = input.subnet ?? DEMO_DEFAULTS.subnet
  const cidr = input.cidr ?? DEMO_DEFAULTS.cidr
  const requests = input.requests === undefined ? DEMO_DEFAULTS.requests : integer('requests', input.requests, 1, 1000)
  for (const flag of ['keep', 'tls', 'backends'] as const) {
    if (input[flag] !== undefined && input[flag] !== false) throw new ValidationError(flag, `--ha runs its own story and always cleans up: it takes no --${flag}`, 'lbaas demo --ha [--subnet NAME --cidr CIDR] [--requests N]')
  }
  if (input.cli.length === 0) throw new ValidationError('cli', 'the HA demo needs the lbaas program to start its agents')
  const {signal} = input
  const {subnetExists} = preflight(ctx, subnetName, input.cidr, HA_DEMO)
  const dir = `${ctx.runDir}/demo-ha`
  const agentsExisted = ctx.store.read(() => ROLES.some((role) => getAgentRow(ctx.store.db, HA_DEMO.agents[role]) !== undefined))
  const made: Made = {agents: {}}
  const script = new DemoScript(report)
  let controller = ctx
  let finished = false
  try {
    const backends = await script.run(labUpStep(ctx, host, {subnet: subnetName, cidr, backends: HA_DEMO.backends}, `1. Lab: ${HA_DEMO.backends} backend hosts on subnet ${subnetName}`))
    if (!subnetExists) made.subnet = true
    await report.note(backends.map((backend) => `${backend.name}  ${backend.address}:${backend.port}`).join('\n'))
    signal?.throwIfAborted()

    // Two agents on this one host: each its own state file and run dir, as two hosts would have.
    makePrivateDirs(dir)
    const port = await freeLoopbackPort()
    const server = `127.0.0.1:${port}`
    made.gearmand = await script.run({
      heading: `2. Two agents on this host: a private gearmand on ${server} and two \`lbaas serve-worker\``,
      program: 'gearmand',
      command: [],
      argv: ['-L', '127.0.0.1', '-p', String(port), '--log-file', `${dir}/gearmand.log`],
      background: true,
      run: async (args) => {
        const daemon = startDaemon(['gearmand', ...args.all()], {logFile: `${dir}/gearmand.out`})
        await waitForListener(daemon, port)
        return daemon
      },
    })
    for (const role of ROLES) {
      makePrivateDirs(`${dir}/${role}`)
      made.agents[role] = await script.run({
        command: ['serve-worker'],
        argv: ['--server', server, '--function', HA_DEMO.agents[role], '--state', `${dir}/${role}/state.db`, '--run-dir', `${dir}/${role}/run`],
        background: true,
        run: async (args) => startDaemon([...input.cli, 'serve-worker', ...args.all()], {logFile: `${dir}/${role}/worker.log`, env: {...process.env, LBAAS_DEBUG: undefined}}),
      })
    }
    const transport = new GearmanAgentTransport(await gearmanSettingsFromEnv({}, [server]))
    controller = controllerContext(ctx, transport)
    await ctx.notify.step('wait until both agents serve their function on the private gearmand', () =>
      until(host, 'both agents registered', WAIT.agents, async () => {
        for (const agent of Object.values(made.agents)) if (!agent.running()) throw new RuntimeFailure('demo_agent', `an agent exited (see ${dir}/*/worker.log)`)
        const registry = await transport.registry()
        return ROLES.every((role) => registry.agents.has(HA_DEMO.agents[role])) ? true : undefined
      }, signal),
    )
    script.shell(`export LBAAS_GEARMAN_SERVERS=${server}   # this CLI is the controller`)
    signal?.throwIfAborted()

    const agents = [HA_DEMO.agents.a, HA_DEMO.agents.b] as const
    const pool = await script.run(
      poolCreateStep(controller, {name: HA_DEMO.pool, subnet: subnetName, ha: agents}, `3. Pool ${HA_DEMO.pool}: active/standby, peer a on ${agents[0]}, peer b on ${agents[1]}`),
    )
    made.pool = pool.id
    const peersOf = (shown: HaPool) => shown.peers ?? []
    await report.note(peersOf(pool as HaPool).map((peer) => `peer ${peer.role} on ${peer.agent}: ${peer.address}`).join('\n') || 'two peers')
    for (const backend of backends) await script.run(memberCreateStep(controller, HA_DEMO.pool, backend))
    signal?.throwIfAborted()

    const vip = await script.run(
      vipCreateStep(controller, {pool: HA_DEMO.pool, name: HA_DEMO.vip, subnet: subnetName, port: DEMO_DEFAULTS.port}, `4. VIP ${HA_DEMO.vip}: each agent runs HAProxy and keepalived in its peer's namespace`),
    )
    made.vip = true
    await report.note(`VRRP elects one MASTER; it holds ${vip.address} (the other peer is BACKUP, nopreempt)`)

    /** `lbaas pool show demo-ha`, read until `done` holds. */
    const showUntil = (title: string, what: string, timeoutMs: number, done: (shown: HaPool) => boolean): DemoStep<HaPool> => ({
      command: ['pool', 'show'],
      argv: [HA_DEMO.pool],
      run: (args) => {
        const ref = args.positional()
        return ctx.notify.step(title, () =>
          until(host, what, timeoutMs, async () => {
            const shown = (await showPoolLive(controller, ref)) as HaPool
            return done(shown) ? shown : undefined
          }, signal),
        )
      },
    })
    const peer = (shown: HaPool, role: Role): HaPeerReport => {
      const found = peersOf(shown).find((candidate) => candidate.role === role)!
      return {role, agent: found.agent, address: found.address, state: found.state}
    }
    const describePeers = (shown: HaPool) => peersOf(shown).map((entry) => `peer ${entry.role} on ${entry.agent} (${entry.address}): ${entry.state ?? 'not reported yet'}`).join('\n')
    const elected = await script.run(showUntil('wait for one MASTER (pool show)', 'one peer MASTER, the other BACKUP', WAIT.master, (shown) =>
      Boolean(shown.master) && peersOf(shown).every((entry) => entry.state === (entry.role === shown.master ? 'MASTER' : 'BACKUP'))))
    const first = elected.master!
    await report.note(describePeers(elected))

    const burst = (title: string) =>
      burstThroughVip(ctx, {host, report, script, statusContext: controller, poolId: pool.id, vip, requests, backends, signal}, title)
    const spreads: Spread[] = []
    await report.heading(`5. ${requests} requests through the VIP, served by the MASTER (peer ${first} on ${HA_DEMO.agents[first]})`)
    spreads.push(await burst(`peer ${first} MASTER`))

    // The MASTER's HAProxy, as its agent started it: the identity record in the agent's run dir.
    const paths = poolPaths(`${dir}/${first}/run`, pool.id)
    const pids = (await provenHaproxy(paths)).map((process) => String(process.pid))
    if (pids.length === 0) throw new RuntimeFailure('demo_ha', `the HAProxy of peer ${first} is not running as its agent recorded it (${paths.identity})`)
    script.shell(`# HAProxy of the MASTER peer, master process and workers (PIDs from ${paths.identity} and its master socket)`)
    const killedAt = performance.now()
    const killed = await script.run({
      heading: `6. The MASTER's HAProxy crashes: SIGKILL to PIDs ${pids.join(', ')} (its agent's identity record, ${haNamespaceFor(pool.id, first)})`,
      program: 'kill',
      command: [],
      argv: ['-KILL', ...pids],
      run: async (args) => {
        const [signalName, ...targets] = args.all()
        if (signalName !== '-KILL') throw new RuntimeFailure('demo_ha', `unexpected signal ${signalName}`)
        return crashHaproxy(paths, targets.map(Number))
      },
    })
    const failoverSeconds = await ctx.notify.step(`wait until ${vip.address} answers again`, () =>
      until(host, `${vip.address} answering again`, WAIT.answer, async () => {
        const probe = await host.sendBurst({host: vip.address, port: vip.protocol_port, count: 1, timeoutMs: 500, signal})
        return probe.failed === 0 ? (performance.now() - killedAt) / 1000 : undefined
      }, signal),
    )
    const moved = await script.run(showUntil(`wait for peer ${other(first)} to be MASTER (pool show)`, `peer ${other(first)} MASTER`, WAIT.master, (shown) => shown.master === other(first)))
    await report.heading(`7. The VIP answers from peer ${other(first)} on ${HA_DEMO.agents[other(first)]}`)
    await report.note(
      `${vip.address} answered again ${failoverSeconds.toFixed(1)} s after the kill: keepalived's check on peer ${first} failed (2 runs, 1 s apart), ` +
        `it went FAULT, and peer ${other(first)} took the VIP\n${describePeers(moved)}`,
    )
    spreads.push(await burst(`peer ${other(first)} MASTER after the crash`))

    const recovered = await script.run(
      showUntil(`wait for peer ${first} to come back as BACKUP`, `peer ${first} BACKUP again`, WAIT.backup, (shown) => shown.master === other(first) && peer(shown, first).state === 'BACKUP'),
    )
    const recoverySeconds = (performance.now() - killedAt) / 1000
    await report.heading(`8. Recovery: ${HA_DEMO.agents[first]}'s watchdog restarted its HAProxy; peer ${first} is BACKUP, peer ${other(first)} keeps the VIP (nopreempt)`)
    await report.note(`${recoverySeconds.toFixed(1)} s after the kill\n${describePeers(recovered)}`)

    finished = true
    const cleanup = cleanupSteps(controller, host, made, subnetName)
    return {
      subnet: {name: subnetName, cidr, created: Boolean(made.subnet)},
      pool: HA_DEMO.pool,
      pool_id: pool.id,
      vip: {name: HA_DEMO.vip, address: vip.address, protocol_port: vip.protocol_port},
      gearmand: server,
      master_before: peer(elected, first),
      master_after: peer(moved, other(first)),
      killed_pids: killed,
      failover_seconds: round(failoverSeconds),
      recovery_seconds: round(recoverySeconds),
      peers_after_recovery: ROLES.map((role) => peer(recovered, role)),
      spreads,
      // In the order the cleanup below runs them.
      commands: [
        ...script.lines,
        ...cleanup.filter((step) => step.command[0] !== 'lab').map(scriptLine),
        ...stopLines(made),
        ...cleanup.filter((step) => step.command[0] === 'lab').map(scriptLine),
      ],
      kept: false,
    }
  } finally {
    const left = subnetExists ? ` (subnet ${subnetName} existed before the demo and stays)` : ''
    await report.heading(finished ? `9. Cleanup: removing what the demo created${left}` : `The demo stopped; removing what it created${left}`)
    // The pool first, while its agents still answer: each removes its peer (UNDEPLOY).
    await runCleanup(controller, script, cleanupSteps(controller, host, made, subnetName).filter((step) => step.command[0] !== 'lab'))
    await stopDaemons(ctx, made)
    if (made.pool) await removeLeftPeers(ctx, dir, made.pool)
    if (!agentsExisted) ctx.store.write(() => ROLES.forEach((role) => forgetAgentRow(ctx.store.db, HA_DEMO.agents[role])))
    if (made.subnet) await runCleanup(ctx, script, [labDownStep(ctx, host, subnetName)])
    rmSync(dir, {recursive: true, force: true})
  }

}

function cleanupSteps(ctx: AppContext, host: DemoHost, made: Made, subnetName: string): DemoStep<unknown>[] {
  const steps: DemoStep<unknown>[] = []
  if (made.vip) steps.push(deleteStep(ctx, 'vip', HA_DEMO.vip, `delete VIP ${HA_DEMO.vip}`, deleteVip))
  if (made.pool) steps.push(deleteStep(ctx, 'pool', HA_DEMO.pool, `delete pool ${HA_DEMO.pool} (both agents remove their peer)`, deletePool))
  if (made.subnet) steps.push(labDownStep(ctx, host, subnetName))
  return steps
}

function stopLines(made: Made): string[] {
  return made.gearmand ? ['kill %2 %3   # the agents (serve-worker finishes its jobs on SIGTERM)', 'kill %1   # gearmand'] : []
}

/** The agents, then gearmand: by the PID and start time each had when the demo started it. */
async function stopDaemons(ctx: AppContext, made: Made): Promise<void> {
  const daemons: [string, Daemon | undefined][] = [
    ...ROLES.map((role): [string, Daemon | undefined] => [`agent ${HA_DEMO.agents[role]}`, made.agents[role]]),
    ['the private gearmand', made.gearmand],
  ]
  for (const [name, daemon] of daemons) {
    if (!daemon) continue
    try {
      await ctx.notify.step(`stop ${name} (PID ${daemon.pid})`, () => daemon.stop())
    } catch (error) {
      ctx.notify.warn(`cleanup: stopping ${name} failed: ${(error as Error).message}`)
    }
  }
}

/**
 * When `pool delete` could not reach an agent, its peer still runs: each agent's own state
 * and run dir (the demo's, the agents stopped) undeploy it as the agent would have.
 */
async function removeLeftPeers(ctx: AppContext, dir: string, poolId: string): Promise<void> {
  for (const role of ROLES) {
    if (!namespaceExists(haNamespaceFor(poolId, role)) || !existsSync(`${dir}/${role}/state.db`)) continue
    const agent = openAppContext({state: `${dir}/${role}/state.db`, runDir: `${dir}/${role}/run`, notify: ctx.notify})
    try {
      await ctx.notify.step(`remove peer ${role} (its agent did not)`, () =>
        agent.withPoolLock(poolId, () => agent.executorFor({id: poolId, agent: 'local'}).undeploy(poolId)),
      )
    } catch (error) {
      ctx.notify.warn(`cleanup: peer ${role} of pool ${poolId} is left (namespace ${haNamespaceFor(poolId, role)}): ${(error as Error).message}`)
    } finally {
      agent.store.close()
    }
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10
}
