/**
 * Issue 6, part 4, with `lbaas serve-worker` running: (1) the Libra device's HAProxy, and
 * a pool a controller placed here, killed with SIGKILL under load: the worker's watchdog
 * restarts them by itself, no `lbaas sync` needed; (2) the job server killed and restarted
 * in the middle of a burst of jobs: every job either completes or its client gets a typed
 * error at once (none hangs until its timeout), and the worker serves again after the
 * restart. Figures (outage, counts) are printed as `fault-figures` for BENCHMARKS.md.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {LbaasError} from '../../../src/domain/errors.js'
import {GearmanClient} from '../../../src/gearman/client.js'
import {runningMaster} from '../../../src/host/haproxy-process.js'
import {poolPaths} from '../../../src/host/names.js'
import {waitUntilDead} from '../../../src/host/proc.js'
import {showProc} from '../../../src/haproxy/runtime.js'
import {send, startLoad} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'
import {Gearmand} from '../gearman/gearmand-process.js'
import {retireWorker, ServeWorkerProcess} from '../worker/serve-worker-process.js'
import {expectConverged} from './host-state.js'
import {deployMessage, nativePoolIds, type NativePool} from './native-pool.js'
import {outageProbe, reportFigures} from './outage.js'

const world = trafficLab('wfault')
const functionName = `lbt-wfault-${world.suffix}`
const PORT = 8080
let gearmand: Gearmand
let lab: LabInfo
let worker: ServeWorkerProcess
let client: GearmanClient
let native: NativePool
let deviceAddress = ''

async function job(payload: unknown, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return JSON.parse((await client.submitJob(functionName, JSON.stringify(payload), {timeoutMs})).toString('utf8')) as Record<string, unknown>
}

function update(n: number) {
  return {
    hpcs_action: 'UPDATE',
    loadBalancers: [{protocol: 'HTTP', port: PORT, nodes: [{id: n, address: lab.backend(n).address, port: 8000}]}],
  }
}

function deviceId(): string {
  const db = new Database(world.cli.statePath, {readonly: true})
  try {
    return (db.prepare('SELECT id FROM libra_device').get() as {id: string}).id
  } finally {
    db.close()
  }
}

/** Kills the master and workers of the HAProxy in run-dir entry `id`; resolves when they are dead. */
async function killHaproxy(id: string): Promise<number> {
  const paths = poolPaths(world.runDir, id)
  const master = runningMaster(paths)!
  const proc = await showProc(paths.masterSocket, {timeoutMs: 3_000, connectRetryMs: 2_000})
  const pids = [master, ...proc.workers.map((entry) => entry.pid)]
  const killedAt = performance.now()
  for (const pid of pids) process.kill(pid, 'SIGKILL')
  for (const pid of pids) expect(await waitUntilDead(pid, 5_000)).toBe(true)
  return killedAt
}

const converged = () => expectConverged(world, lab, {pools: [native.pool], devices: [deviceId()]})

beforeAll(async () => {
  gearmand = await Gearmand.start()
  lab = await world.lab(2)
  deviceAddress = `${lab.base}.50`
  native = nativePoolIds(lab, '5c1d2e3f', 60)
  world.poolIds.add(native.pool)
  worker = await ServeWorkerProcess.start({
    dir: world.dir,
    ports: [gearmand.port],
    functionName,
    args: ['--device-subnet', lab.subnet, '--device-address', deviceAddress],
  })
  client = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmand.port}]})
  expect((await job(update(1))).hpcs_response).toBe('PASS')
  expect((await job(deployMessage(world.cli.statePath, lab, native))).lbaas_response).toBe('PASS')
})

afterAll(async () => {
  try {
    await retireWorker(worker, world.dir, job, native ? [native.pool] : [])
    await client?.close()
  } finally {
    await world.cleanup()
    await gearmand?.stop()
  }
})

describe('HAProxy killed behind the worker', () => {
  it.each([
    ['the Libra device', () => deviceId(), () => deviceAddress, PORT],
    ['a pool placed by a controller', () => native.pool, () => native.vipAddress, 80],
  ] as const)('%s: the watchdog restarts it without a job or a sync; the outage is measured', async (what, id, address, port) => {
    const load = startLoad({host: address(), port, keepAlive: 2, close: 1, maxRequests: 200_000, maxMs: 90_000, pauseMs: 2})
    const probe = outageProbe(() => send(address(), port, {timeoutMs: 1_000}).then((reply) => reply.status === 200))
    try {
      await sleep(500)
      const logBefore = worker.log().length
      const killedAt = await killHaproxy(id())
      // An answer that was already on its way when the kill landed does not count as "back".
      const down = await waitFor('the VIP to stop answering', async () => probe.firstFailureAfter(killedAt), 10_000, 10)
      const back = await waitFor('the worker to restart HAProxy', async () => probe.firstSuccessAfter(down), 30_000, 20)
      await sleep(500)
      const result = await load.stop()
      const log = worker.log().slice(logBefore)
      expect(log).toMatch(/event=watchdog .*HAProxy is not running/)
      expect(log).toMatch(/event=restore .*reason=watchdog/)
      expect(runningMaster(poolPaths(world.runDir, id()))).toBeDefined()
      await converged()
      reportFigures(`HAProxy killed, serve-worker watchdog (${what})`, {
        'kill → VIP answers (ms)': back - killedAt,
        'load requests': result.requests,
        'load requests failed': result.errors.length,
      })
    } finally {
      await load.stop()
      probe.stop()
    }
  })

  it('STATS tells the truth right after the kill, and PASS once the watchdog restored the device', async () => {
    await killHaproxy(deviceId())
    const down = await job({hpcs_action: 'STATS'})
    // Milliseconds after the kill, well before a restart could finish (haproxy -c alone takes longer).
    expect(down).toMatchObject({hpcs_response: 'FAIL', hpcs_error: 'HAProxy is not running.'})
    await waitFor('STATS to pass again', async () => ((await job({hpcs_action: 'STATS'})).hpcs_response === 'PASS' ? true : undefined), 30_000, 100)
  })
})

describe('the job server restarted during a burst of jobs', () => {
  it('every job completes or its client gets a typed error; the worker serves after the restart', async () => {
    const TOTAL = 400
    const IN_FLIGHT = 32
    const outcomes: ({kind: 'pass'} | {kind: 'fail'; response: Record<string, unknown>} | {kind: 'error'; code: string})[] = []
    let submitted = 0
    let restartedAt = 0
    let firstPassAfterRestart: number | undefined
    const payloadOf = (index: number) => (index % 20 === 10 ? update(1 + (Math.floor(index / 20) % 2)) : {hpcs_action: 'STATS'})

    const restart = async () => {
      await gearmand.kill()
      await gearmand.restart()
      restartedAt = performance.now()
    }
    const one = async (index: number): Promise<void> => {
      try {
        const response = await job(payloadOf(index), 30_000)
        if (response.hpcs_response === 'PASS') {
          outcomes.push({kind: 'pass'})
          if (restartedAt > 0) firstPassAfterRestart ??= performance.now()
        } else outcomes.push({kind: 'fail', response})
      } catch (error) {
        outcomes.push({kind: 'error', code: error instanceof LbaasError ? error.code : `untyped: ${(error as Error).message}`})
      }
    }
    let restarting: Promise<void> | undefined
    const lanes = Array.from({length: IN_FLIGHT}, async () => {
      while (submitted < TOTAL) {
        const index = submitted++
        if (index === 100) restarting = restart()
        if (index > 100) await restarting
        await one(index)
      }
    })
    await Promise.all(lanes)
    await worker.waitRegistered([gearmand.port])

    expect(outcomes).toHaveLength(TOTAL)
    const errors = outcomes.filter((outcome) => outcome.kind === 'error') as {code: string}[]
    const codes = [...new Set(errors.map((error) => error.code))]
    // Lost with the job server: refused at once, never left to time out.
    for (const code of codes) expect(code).toBe('gearman_unavailable')
    expect(outcomes.filter((outcome) => outcome.kind === 'fail')).toEqual([])
    const passed = outcomes.filter((outcome) => outcome.kind === 'pass').length
    expect(passed + errors.length).toBe(TOTAL)
    expect(passed).toBeGreaterThan(TOTAL - 100)
    expect(firstPassAfterRestart).toBeDefined()
    expect(worker.running).toBe(true)

    // Whatever UPDATE the job server lost, the device runs what its state file says.
    expect((await job({hpcs_action: 'STATS'})).hpcs_response).toBe('PASS')
    await converged()
    reportFigures('job server restarted during a burst (serve-worker)', {
      'jobs submitted': TOTAL,
      'in flight': IN_FLIGHT,
      'completed (PASS)': passed,
      'typed errors (gearman_unavailable)': errors.length,
      'unanswered': TOTAL - outcomes.length,
      'restart → first PASS (ms)': firstPassAfterRestart! - restartedAt,
    })
  })
})
