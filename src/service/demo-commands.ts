/**
 * The lbaas commands the demos run (`lbaas demo`, `--tls`, `--ha`), each as a step of the
 * step table (`demo-steps.ts`): the argv written once, the service run from it. Also what
 * the demos drive besides the services (`DemoHost`: lab hosts, traffic, health, time),
 * which tests replace.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import type {Member} from '../domain/types.js'
import {sendBurst} from '../lab/traffic.js'
import {formatArgv} from '../util/argv.js'
import {refreshPoolHealth} from './apply.js'
import type {AppContext} from './context.js'
import {shellRef, stepArgv, type DemoScript, type DemoStep} from './demo-steps.js'
import {LAB_DEFAULTS, labDown, labSetHealth, labUp, type LabBackend} from './lab.js'
import {createMember} from './members.js'
import {createPool} from './pools.js'
import {createVip} from './vips.js'

/** What the demo drives besides the services: the lab's hosts, traffic, live health, time. Tests replace it. */
export interface DemoHost {
  labUp: typeof labUp
  labDown: typeof labDown
  labSetHealth: typeof labSetHealth
  sendBurst: typeof sendBurst
  memberStatuses(ctx: AppContext, poolId: string): Promise<Member[]>
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const hostDemo: DemoHost = {
  labUp,
  labDown,
  labSetHealth,
  sendBurst,
  memberStatuses: async (ctx, poolId) => (await refreshPoolHealth(ctx, poolId))?.graph.members ?? [],
  sleep: pause,
}

/** Waits `ms`; an abort ends the wait with the signal's reason (the demo's `cancelled`), not an AbortError. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, {signal})
  } catch (error) {
    throw signal?.aborted ? signal.reason : error
  }
}

export function labSubnetFlag(subnetName: string): string[] {
  return subnetName === LAB_DEFAULTS.subnet ? [] : ['--subnet', subnetName]
}

/** `lbaas lab up`, with only the flags that differ from the lab's defaults. */
export function labUpStep(ctx: AppContext, host: DemoHost, lab: {subnet: string; cidr: string; backends: number}, heading: string): DemoStep<LabBackend[]> {
  return {
    heading,
    command: ['lab', 'up'],
    argv: [
      ...labSubnetFlag(lab.subnet),
      ...(lab.cidr === LAB_DEFAULTS.cidr ? [] : ['--cidr', lab.cidr]),
      ...(lab.backends === LAB_DEFAULTS.backends ? [] : ['--backends', String(lab.backends)]),
    ],
    run: async (args) => {
      const backends = Number(args.optional('--backends') ?? LAB_DEFAULTS.backends)
      const up = await host.labUp(ctx, {subnet: args.optional('--subnet') ?? LAB_DEFAULTS.subnet, cidr: args.optional('--cidr') ?? LAB_DEFAULTS.cidr, backends})
      return up.slice(0, backends)
    },
  }
}

export function poolCreateStep(ctx: AppContext, pool: {name: string; subnet: string; ha?: readonly [string, string]}, heading?: string): DemoStep<Awaited<ReturnType<typeof createPool>>> {
  return {
    heading,
    command: ['pool', 'create'],
    argv: [
      '--name', pool.name, '--subnet', pool.subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN',
      ...(pool.ha ? ['--ha', 'active-standby', '--agents', pool.ha.join(',')] : []),
    ],
    run: (args) =>
      createPool(ctx, {
        name: args.flag('--name'),
        subnet: args.flag('--subnet'),
        protocol: args.flag('--protocol'),
        lb_method: args.flag('--lb-method'),
        ha: args.optional('--ha'),
        agents: args.optional('--agents'),
      }),
  }
}

export function memberCreateStep(ctx: AppContext, pool: string, backend: {address: string; port: number}): DemoStep<Member> {
  return {
    command: ['member', 'create'],
    argv: [pool, '--address', backend.address, '--protocol-port', String(backend.port)],
    run: (args) => createMember(ctx, args.positional(), {address: args.flag('--address'), protocol_port: args.number('--protocol-port')}),
  }
}

/** `VIP=$(lbaas vip create POOL --name … -f value -c address)`: plain HTTP on the pool's subnet. */
export function vipCreateStep(ctx: AppContext, vip: {pool: string; name: string; subnet: string; port: number}, heading?: string): DemoStep<Awaited<ReturnType<typeof createVip>>> {
  return {
    heading,
    command: ['vip', 'create'],
    argv: [vip.pool, '--name', vip.name, '--protocol', 'HTTP', '--protocol-port', String(vip.port), '--subnet', vip.subnet],
    capture: {variable: 'VIP', column: 'address'},
    run: (args) =>
      createVip(ctx, args.positional(), {name: args.flag('--name'), protocol: args.flag('--protocol'), protocol_port: args.number('--protocol-port'), subnet: args.flag('--subnet')}),
  }
}

/** `lbaas TOPIC delete REF --yes`, run as one titled progress step. */
export function deleteStep(ctx: AppContext, topic: string, ref: string | ReturnType<typeof shellRef>, title: string, remove: (ctx: AppContext, ref: string) => unknown): DemoStep<unknown> {
  return {
    command: [topic, 'delete'],
    argv: [ref, '--yes'],
    run: async (args) => {
      args.bool('--yes')
      const target = args.positional()
      return ctx.notify.step(title, async () => remove(ctx, target))
    },
  }
}

export function labDownStep(ctx: AppContext, host: DemoHost, subnetName: string): DemoStep<unknown> {
  return {
    command: ['lab', 'down'],
    argv: [...labSubnetFlag(subnetName), '--yes'],
    run: async (args) => {
      args.bool('--yes')
      const subnet = args.optional('--subnet') ?? LAB_DEFAULTS.subnet
      return ctx.notify.step(`stop the lab and delete subnet ${subnet}`, () => host.labDown(ctx, subnet))
    },
  }
}

/** A step's command line with its values (for the operator to paste after --keep). */
export const literalLine = (step: DemoStep<unknown>): string => `${step.program ?? 'lbaas'} ${formatArgv(stepArgv(step))}`

/** Runs cleanup steps in order; carries on past failures and reports them. */
export async function runCleanup(ctx: AppContext, script: DemoScript, steps: readonly DemoStep<unknown>[]): Promise<void> {
  for (const step of steps) {
    try {
      await script.run(step)
    } catch (error) {
      ctx.notify.warn(`cleanup: ${literalLine(step)} failed: ${(error as Error).message}`)
    }
  }
}

