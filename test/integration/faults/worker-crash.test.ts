/**
 * Issue 6, part 1, the worker: `lbaas serve-worker` is killed (SIGKILL) in the middle of a
 * Libra UPDATE, at steps of the deploy pipeline and at the worker's own crash point (the
 * new configuration runs, the state file does not hold it yet). Then either `lbaas sync`
 * on the worker's state file, or the restarted worker, brings the device back to what the
 * state file holds; the restarted worker then gets the unanswered UPDATE again from
 * gearmand (a job whose worker died is handed to the next one) and answers PASS.
 */
import {readFileSync} from 'node:fs'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {GearmanClient} from '../../../src/gearman/client.js'
import type {SyncResult} from '../../../src/service/sync.js'
import {CRASH_POINTS, type CrashPoint} from '../../../src/util/crash-point.js'
import {tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {Gearmand} from '../gearman/gearmand-process.js'
import {gearmanJob, retireWorker, ServeWorkerProcess} from '../worker/serve-worker-process.js'
import {expectConverged} from './host-state.js'

const world = trafficLab('wcrash')
const functionName = `lbt-wcrash-${uniqueSuffix()}`
const PORT = 8080
let gearmand: Gearmand
let lab: LabInfo
let deviceAddress = ''
let worker: ServeWorkerProcess | undefined

/** Libra UPDATE whose only node is lab backend `n`: which backend answers tells which configuration runs. */
function update(n: number) {
  return {
    hpcs_action: 'UPDATE',
    loadBalancers: [{name: 'lb', protocol: 'HTTP', port: PORT, nodes: [{id: n, address: lab.backend(n).address, port: 8000}]}],
  }
}

function device(): {id: string; state: string; backend: number} {
  const db = new Database(world.cli.statePath, {readonly: true})
  try {
    const row = db.prepare('SELECT id, state, config FROM libra_device').get() as {id: string; state: string; config: string}
    const address = (JSON.parse(row.config) as {loadBalancers: {nodes: {address: string}[]}[]}).loadBalancers[0].nodes[0].address
    return {id: row.id, state: row.state, backend: [1, 2].find((n) => lab.backend(n).address === address)!}
  } finally {
    db.close()
  }
}

async function startWorker(env: Record<string, string> = {}): Promise<ServeWorkerProcess> {
  worker = await ServeWorkerProcess.start({
    dir: world.dir,
    ports: [gearmand.port],
    functionName,
    args: ['--device-subnet', lab.subnet, '--device-address', deviceAddress],
    env,
  })
  return worker
}

async function expectDeviceServes(n: number): Promise<void> {
  const answers = await tally(deviceAddress, PORT, 4)
  expect(answers.errors).toEqual([])
  expect(answers.backends).toEqual({[lab.backend(n).name]: 4})
}

const converged = () => expectConverged(world, lab, {pools: [], devices: [device().id]})

beforeAll(async () => {
  gearmand = await Gearmand.start()
  lab = await world.lab(2)
  deviceAddress = `${lab.base}.50`
  await startWorker()
  expect((await gearmanJob(gearmand.port, functionName, update(1))).hpcs_response).toBe('PASS')
  await worker!.stop()
})

afterAll(async () => {
  try {
    if (!worker?.running) await startWorker().catch(() => undefined)
    await retireWorker(worker, world.dir, (message) => gearmanJob(gearmand.port, functionName, message))
  } finally {
    await world.cleanup()
    await gearmand?.stop()
  }
})

const SCENARIOS: [CrashPoint, 'sync' | 'restart'][] = [
  ['deploy-after-validate', 'sync'],
  ['deploy-after-rename', 'sync'],
  ['deploy-after-rename', 'restart'],
  ['deploy-after-reload', 'restart'],
  ['worker-update-before-record', 'sync'],
  ['worker-update-before-record', 'restart'],
]

describe('serve-worker killed mid-UPDATE', () => {
  it('covers every crash point of the worker', () => {
    const workerPoints = Object.entries(CRASH_POINTS).filter(([, group]) => group === 'worker').map(([point]) => point)
    for (const point of workerPoints) expect(SCENARIOS.map(([covered]) => covered)).toContain(point)
  })

  it.each(SCENARIOS)('killed at %s; the device is brought back by %s', async (point, repair) => {
    const before = device()
    expect(before.state).toBe('ACTIVE')
    const next = 3 - before.backend
    await startWorker({LBAAS_TEST_CRASH_AT: point})
    const client = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmand.port}]})
    try {
      const answer = client.submitJob(functionName, JSON.stringify(update(next)), {timeoutMs: 90_000})
      answer.catch(() => undefined)
      // Killed by a signal (null exit code), with the UPDATE unanswered.
      expect(await worker!.waitExit()).toBeNull()
      // The state file still holds the last configuration the worker confirmed.
      expect(device()).toEqual(before)

      if (repair === 'sync') {
        const synced = await world.cli.json<SyncResult>(['sync', '--json'])
        if (point !== 'deploy-after-validate') {
          expect(synced.actions).toContainEqual(expect.objectContaining({kind: 'deploy', target: `Libra device ${before.id}`}))
        }
        await expectDeviceServes(before.backend)
        await converged()
      }

      const logBefore = readFileSync(`${world.dir}/worker.log`, 'utf8').length
      await startWorker()
      const response = JSON.parse((await answer).toString('utf8')) as Record<string, unknown>
      expect(response.hpcs_response).toBe('PASS')
      const restored = worker!.log().slice(logBefore)
      expect(restored).toMatch(/event=restore pool=device state=ACTIVE/)
      expect(device()).toEqual({...before, backend: next})
      await expectDeviceServes(next)
      await converged()
    } finally {
      await client.close()
      await worker?.stop()
    }
  })
})
