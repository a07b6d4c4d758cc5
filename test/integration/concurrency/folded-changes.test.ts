/**
 * A weight or admin-state change that reaches HAProxy in a reload together with other
 * changes, instead of through the runtime API: when two commands on one pool overlap (the
 * second commits while the first waits for the pool lock, and the first deploys both), or
 * when `lbaas sync` deploys what a crashed command committed. Found by many-writers.test.ts:
 * a weight set back to the value HAProxy was started with, after a runtime-API change, was
 * lost in such a reload (HAProxy keeps a saved runtime weight when the configuration's
 * weight equals the one it started with; likewise runtime maintenance). The running HAProxy
 * must end with the weights and admin states of the state file.
 *
 * Deterministic: the state file is changed the way such a command commits it, and `lbaas
 * sync` deploys it (the same deploy a concurrent command's applyPool runs).
 */
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('fold')
let lab: LabInfo
let poolId = ''
let first = ''
let second = ''

beforeAll(async () => {
  lab = await world.lab(2)
  poolId = (await world.pool('fold', 'HTTP', 'ROUND_ROBIN', lab)).id
  first = (await world.member(poolId, lab.backend(1).address, ['--weight', '8'])).id
  second = (await world.member(poolId, lab.backend(2).address)).id
  await world.vip(poolId, 'fold-vip', 'HTTP', 80, lab, `${lab.base}.2`)
})

afterAll(() => world.cleanup())

async function servers(): Promise<Record<string, {weight: number; status: string}>> {
  const stat = await world.stat(poolId)
  return Object.fromEntries(stat.servers.map((server) => [server.name, {weight: server.weight, status: server.status}]))
}

/** Commits `statements` as commands would (their deploy still to come), then lets `lbaas sync` deploy them in one reload. */
async function commitThenSync(statements: [string, ...unknown[]][]): Promise<void> {
  const db = new Database(world.cli.statePath, {fileMustExist: true})
  try {
    db.transaction(() => {
      for (const [sql, ...parameters] of statements) db.prepare(sql).run(...parameters)
    })()
  } finally {
    db.close()
  }
  const workersBefore = (await world.proc(poolId)).workers.map((worker) => worker.pid)
  const plan = await world.cli.json<{actions: {kind: string; target: string}[]}>(['sync', '--json'])
  expect(plan.actions.map((action) => action.kind)).toContain('deploy')
  expect((await world.proc(poolId)).workers.map((worker) => worker.pid)).not.toEqual(workersBefore) // reloaded
}

describe('changes folded into one reload', () => {
  it('a weight set back to the configured one after a runtime change is the weight that runs', async () => {
    expect((await world.cli.run(['member', 'update', first, '--weight', '4'])).exitCode).toBe(0)
    expect((await servers())[first].weight).toBe(4) // through the runtime API: the process started with 8
    await commitThenSync([
      ['UPDATE members SET weight = 8 WHERE id = ?', first],
      ["UPDATE pools SET lb_method = 'LEAST_CONNECTIONS' WHERE id = ?", poolId],
    ])
    expect(world.config(poolId)).toContain(`server ${first} ${lab.backend(1).address}:8000 weight 8`)
    expect((await servers())[first].weight).toBe(8)
  })

  it('admin up after a runtime maintenance is the state that runs', async () => {
    expect((await world.cli.run(['member', 'update', second, '--admin-state-up', 'false'])).exitCode).toBe(0)
    expect((await servers())[second].status).toBe('MAINT') // the process started with the member up
    await commitThenSync([
      ['UPDATE members SET admin_state_up = 1 WHERE id = ?', second],
      ["UPDATE pools SET lb_method = 'ROUND_ROBIN' WHERE id = ?", poolId],
    ])
    expect(world.config(poolId)).not.toMatch(new RegExp(`server ${second} .* disabled`))
    expect((await servers())[second].status).not.toMatch(/MAINT/)
  })

  it('a runtime weight and maintenance the state file keeps survive a reload for another change', async () => {
    expect((await world.cli.run(['member', 'update', first, '--weight', '3', '--admin-state-up', 'false'])).exitCode).toBe(0)
    expect((await world.cli.run(['pool', 'update', poolId, '--lb-method', 'LEAST_CONNECTIONS'])).exitCode).toBe(0)
    expect((await servers())[first]).toMatchObject({weight: 3, status: 'MAINT'})
    expect((await world.cli.run(['member', 'update', first, '--admin-state-up', 'true'])).exitCode).toBe(0)
    expect((await servers())[first].status).not.toMatch(/MAINT/)
  })
})
