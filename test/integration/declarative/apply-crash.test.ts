/**
 * Issue 12: `lbaas apply` killed (SIGKILL, src/util/crash-point.ts) at points of its own
 * and of the deploy pipeline it drives, then applied again: the host and the state file
 * converge, nothing is left PENDING_*, and one more apply changes nothing.
 */
import {writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'

import type {Member, Pool, Vip} from '../../../src/domain/types.js'
import {backendsSeen, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('applycrash')
const stack = `t${world.suffix}`
const file = `${world.dir}/stack.yaml`
let lab: LabInfo

const DEPLOY_POINTS = ['deploy-after-render', 'deploy-after-validate', 'deploy-after-plug', 'deploy-after-rename', 'deploy-after-reload', 'deploy-before-mark-active'] as const

function write(options: {members: number[][]; delay: number; pools?: number}): void {
  const count = options.pools ?? 2
  writeFileSync(
    file,
    stringify({
      apiVersion: 'lbaas/v1',
      stack,
      monitors: [{name: `hc-${world.suffix}`, type: 'HTTP', delay: options.delay, timeout: 1, max_retries: 2, url_path: '/healthz'}],
      pools: Array.from({length: count}, (_, index) => ({
        name: `p${index}-${world.suffix}`,
        subnet: lab.subnet,
        protocol: 'HTTP',
        lb_method: 'ROUND_ROBIN',
        monitors: [`hc-${world.suffix}`],
        members: options.members[index].map((n) => ({address: lab.backend(n).address, protocol_port: 8000})),
        vip: {name: `p${index}-vip-${world.suffix}`, protocol_port: 80, address: `${lab.base}.${2 + index}`},
      })),
    }),
  )
}

async function killedAt(point: string, extra: string[] = []): Promise<void> {
  const result = await world.cli.run(['apply', '-f', file, '--parallel', '1', ...extra], {env: {LBAAS_TEST_CRASH_AT: point}})
  expect(result.signal, `apply with LBAAS_TEST_CRASH_AT=${point}: ${result.stderr}`).toBe('SIGKILL')
}

async function statuses(): Promise<string[]> {
  const [pools, vips, members] = await Promise.all([
    world.cli.json<Pool[]>(['pool', 'list', '--json']),
    world.cli.json<Vip[]>(['vip', 'list', '--json']),
    world.cli.json<Member[]>(['member', 'list', '--json']),
  ])
  return [...pools, ...vips, ...members].map((object) => object.status)
}

/** Applied again: exit 0, nothing PENDING_*, and a further apply changes nothing. */
async function expectConvergedAfterReapply(extra: string[] = []): Promise<void> {
  const again = await world.cli.run(['apply', '-f', file, ...extra])
  expect(again.exitCode, again.stderr).toBe(0)
  expect((await statuses()).filter((status) => status.startsWith('PENDING_') || status === 'ERROR')).toEqual([])
  const settled = await world.cli.run(['apply', '-f', file, ...extra])
  expect(settled.exitCode).toBe(0)
  expect(settled.stdout).toMatch(/no changes/)
}

beforeAll(async () => {
  lab = await world.lab(3)
})

afterAll(async () => {
  await world.cleanup()
})

describe('apply killed, then applied again', () => {
  it('killed after the rows were committed, before any pool converged', async () => {
    write({members: [[1, 2], [2, 3]], delay: 1})
    await killedAt('apply-after-commit')
    expect((await statuses()).some((status) => status.startsWith('PENDING_'))).toBe(true)
    await expectConvergedAfterReapply()
    for (const [index, expected] of [[1, 2], [2, 3]].entries()) {
      const seen = await tally(`${lab.base}.${2 + index}`, 80, 6)
      expect(seen.errors).toEqual([])
      expect(backendsSeen(seen).sort()).toEqual(expected.map((n) => lab.backend(n).name).sort())
    }
  })

  it('killed inside the deploy pipeline of a pool (a point chosen at random)', async () => {
    const point = DEPLOY_POINTS[Math.floor(Math.random() * DEPLOY_POINTS.length)]
    console.log(`apply-crash: killed at ${point}`)
    write({members: [[1, 2, 3], [2, 3]], delay: 1})
    await killedAt(point)
    await expectConvergedAfterReapply()
    expect(backendsSeen(await tally(`${lab.base}.2`, 80, 9)).sort()).toEqual([1, 2, 3].map((n) => lab.backend(n).name).sort())
  })

  it('killed after the first of two pools converged (a monitor change reloads both)', async () => {
    write({members: [[1, 2, 3], [2, 3]], delay: 2})
    await killedAt('apply-after-pool')
    await expectConvergedAfterReapply()
    for (const index of [0, 1]) {
      const pool = await world.cli.json<Pool>(['pool', 'show', `p${index}-${world.suffix}`, '--json'])
      expect(world.config(pool.id)).toMatch(/inter 2s/)
    }
  })

  it('a prune killed while undeploying, then pruned again: the pool is gone', async () => {
    write({members: [[1, 2, 3]], delay: 2, pools: 1})
    const gone = await world.cli.json<Pool>(['pool', 'show', `p1-${world.suffix}`, '--json'])
    await killedAt('undeploy-after-stop', ['--prune'])
    await expectConvergedAfterReapply(['--prune'])
    expect((await world.cli.run(['pool', 'show', gone.id])).exitCode).toBe(5)
  })
})
