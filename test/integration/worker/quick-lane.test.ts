import {randomUUID} from 'node:crypto'
import {join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {adminStatus} from '../../../src/gearman/admin.js'
import {GearmanClient} from '../../../src/gearman/client.js'
import {acquirePoolLock, type Lock} from '../../../src/host/lock.js'
import {tempDir} from '../../helpers/tmp.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {waitFor} from '../../helpers/wait.js'
import {Gearmand} from '../gearman/gearmand-process.js'
import {ServeWorkerProcess} from './serve-worker-process.js'

/**
 * SPEC §5: pings never starve. 100 slow jobs wait (UNDEPLOYs of one pool whose lock this
 * test holds) in a real `lbaas serve-worker` behind a real gearmand; STATS and DISCOVER,
 * Libra and native, submitted after them are answered while all 100 are still outstanding.
 */
const SLOW_JOBS = 100
const dir = tempDir('lbt-quick-lane-')
const functionName = `lbt-quick-${uniqueSuffix()}`
const poolId = randomUUID()
let gearmand: Gearmand
let worker: ServeWorkerProcess
let client: GearmanClient
let lock: Lock | undefined

beforeAll(async () => {
  gearmand = await Gearmand.start()
  worker = await ServeWorkerProcess.start({dir: dir.path, ports: [gearmand.port], functionName})
  client = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmand.port}]})
})

afterAll(async () => {
  lock?.release()
  try {
    await client?.close()
    await worker?.stop()
  } finally {
    await gearmand?.stop()
    dir.cleanup()
  }
})

async function ask(message: Record<string, unknown>): Promise<Record<string, any>> {
  const answer = await client.submitJob(functionName, JSON.stringify(message), {timeoutMs: 60_000})
  return JSON.parse(answer.toString('utf8')) as Record<string, any>
}

describe('quick jobs behind 100 queued slow jobs', () => {
  it('STATS and DISCOVER are answered while every slow job is still outstanding', async () => {
    lock = await acquirePoolLock(join(dir.path, 'run'), poolId)
    let slowDone = 0
    const slow = Array.from({length: SLOW_JOBS}, () =>
      ask({lbaas_action: 'UNDEPLOY', lbaas_version: 1, pool_id: poolId}).finally(() => slowDone++),
    )
    // Every slow job has reached gearmand before the pings are submitted.
    await waitFor('100 slow jobs queued at gearmand', async () => {
      const status = await adminStatus({host: '127.0.0.1', port: gearmand.port}, {timeoutMs: 2_000})
      return (status.find((entry) => entry.function === functionName)?.total ?? 0) >= SLOW_JOBS
    }, 20_000)

    const pings = [
      {hpcs_action: 'STATS'},
      {hpcs_action: 'DISCOVER'},
      {lbaas_action: 'DISCOVER', lbaas_version: 1},
      {lbaas_action: 'STATS', lbaas_version: 1, pool_id: randomUUID()},
    ]
    const answers = await Promise.all(pings.map((ping) => ask(ping)))
    expect(slowDone).toBe(0)
    expect(answers[0]).toMatchObject({hpcs_action: 'STATS'})
    expect(answers[1]).toMatchObject({hpcs_action: 'DISCOVER', hpcs_response: 'PASS'})
    expect(answers[2]).toMatchObject({lbaas_response: 'PASS', discovery: {function: functionName}})
    expect(answers[2]!.discovery.capacity.running_jobs).toBeGreaterThanOrEqual(SLOW_JOBS)
    expect(answers[3]).toMatchObject({lbaas_response: 'PASS', stats: {running: false}})

    lock.release()
    lock = undefined
    const results = await Promise.all(slow)
    expect(results.every((result) => result.lbaas_response === 'PASS')).toBe(true)
    expect(worker.running).toBe(true)
  })
})
