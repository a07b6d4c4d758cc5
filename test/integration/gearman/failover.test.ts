import {setTimeout as sleep} from 'node:timers/promises'
import {afterEach, describe, expect, it} from 'vitest'

import {adminWorkers} from '../../../src/gearman/admin.js'
import {GearmanClient} from '../../../src/gearman/client.js'
import {GearmanUnavailableError} from '../../../src/gearman/errors.js'
import {GearmanWorker, type GearmanJob} from '../../../src/gearman/worker.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {waitFor} from '../../helpers/wait.js'
import {freePort, Gearmand} from './gearmand-process.js'

/** Job servers that die, restart, or are missing: the worker must keep going. */
describe('Gearman failover', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  function gatedHandler(gates: Map<string, () => void>) {
    return async (job: GearmanJob) => {
      const text = job.payload.toString('utf8')
      if (text.startsWith('gate:')) await new Promise<void>((resolve) => gates.set(text, resolve))
      return `echo:${text}`
    }
  }

  async function registeredOn(port: number, clientId: string): Promise<boolean> {
    return (await adminWorkers({host: '127.0.0.1', port})).some((connection) => connection.clientId === clientId)
  }

  it('(e) gearmand killed and restarted mid-run: in-flight job fails typed, worker reconnects and serves', async () => {
    const gearmand = await Gearmand.start()
    cleanups.push(() => gearmand.stop())
    const servers = [{host: '127.0.0.1', port: gearmand.port}]
    const functionName = `lbt-restart-${uniqueSuffix()}`
    const clientId = `lbt-restart-worker-${uniqueSuffix()}`
    const gates = new Map<string, () => void>()
    const logs: string[] = []
    const worker = new GearmanWorker(
      {servers, functionName, clientId, maxInFlight: 2, logger: (level, message) => logs.push(`${level} ${message}`)},
      gatedHandler(gates),
    )
    worker.start()
    cleanups.push(async () => {
      for (const open of gates.values()) open()
      await worker.stop(5_000)
    })
    const client = new GearmanClient({servers})
    cleanups.push(() => client.close())

    expect((await client.submitJob(functionName, 'before', {timeoutMs: 10_000})).toString()).toBe('echo:before')
    const inFlight = client.submitJob(functionName, 'gate:in-flight', {timeoutMs: 30_000}).catch((error: unknown) => error)
    await waitFor('the job to reach the worker', () => gates.has('gate:in-flight'))

    await gearmand.kill('SIGKILL')
    const failure = await inFlight
    expect(failure).toBeInstanceOf(GearmanUnavailableError)
    expect((failure as GearmanUnavailableError).code).toBe('gearman_unavailable')

    await gearmand.restart()
    await waitFor('the worker to register again', () => registeredOn(gearmand.port, clientId), 20_000)

    // The job that was running when the server died finishes now; its connection is gone.
    gates.get('gate:in-flight')!()
    await waitFor('the dropped result to be logged', () => logs.some((line) => line.includes('dropped the result')))
    expect(worker.runningJobs).toBe(0)

    expect((await client.submitJob(functionName, 'after restart', {timeoutMs: 20_000})).toString()).toBe('echo:after restart')
  })

  it('(f) two job servers, one down from the start: serves through the live one, registers on the other when it comes up', async () => {
    const live = await Gearmand.start()
    cleanups.push(() => live.stop())
    const laterPort = await freePort()
    const functionName = `lbt-two-${uniqueSuffix()}`
    const clientId = `lbt-two-worker-${uniqueSuffix()}`
    const worker = new GearmanWorker(
      {
        servers: [{host: '127.0.0.1', port: laterPort}, {host: '127.0.0.1', port: live.port}],
        functionName,
        clientId,
        maxInFlight: 2,
      },
      gatedHandler(new Map()),
    )
    worker.start()
    cleanups.push(() => worker.stop(5_000))

    const liveClient = new GearmanClient({servers: [{host: '127.0.0.1', port: live.port}]})
    cleanups.push(() => liveClient.close())
    for (let i = 0; i < 20; i++) {
      expect((await liveClient.submitJob(functionName, `live-${i}`, {timeoutMs: 10_000})).toString()).toBe(`echo:live-${i}`)
    }

    const later = await Gearmand.start(laterPort)
    cleanups.push(() => later.stop())
    await waitFor('the worker to register on the server that came up', () => registeredOn(laterPort, clientId), 20_000)
    const laterClient = new GearmanClient({servers: [{host: '127.0.0.1', port: laterPort}]})
    cleanups.push(() => laterClient.close())
    expect((await laterClient.submitJob(functionName, 'via later', {timeoutMs: 10_000})).toString()).toBe('echo:via later')
    expect((await liveClient.submitJob(functionName, 'still live', {timeoutMs: 10_000})).toString()).toBe('echo:still live')

    // Both servers feed one worker: jobs submitted to each at once all complete.
    const both = await Promise.all(
      Array.from({length: 40}, (_, i) => (i % 2 ? laterClient : liveClient).submitJob(functionName, `mixed-${i}`, {timeoutMs: 20_000})),
    )
    expect(both.map(String)).toEqual(Array.from({length: 40}, (_, i) => `echo:mixed-${i}`))
  })

  it('stop() waits for running jobs, then unregisters', async () => {
    const gearmand = await Gearmand.start()
    cleanups.push(() => gearmand.stop())
    const servers = [{host: '127.0.0.1', port: gearmand.port}]
    const functionName = `lbt-stop-${uniqueSuffix()}`
    const clientId = `lbt-stop-worker-${uniqueSuffix()}`
    const gates = new Map<string, () => void>()
    const worker = new GearmanWorker({servers, functionName, clientId}, gatedHandler(gates))
    worker.start()
    const client = new GearmanClient({servers})
    cleanups.push(() => client.close())

    const running = client.submitJob(functionName, 'gate:while-stopping', {timeoutMs: 20_000})
    await waitFor('the job to start', () => gates.has('gate:while-stopping'))
    let stopped = false
    const stopping = worker.stop(20_000).then(() => (stopped = true))
    await sleep(200)
    expect(stopped).toBe(false)
    gates.get('gate:while-stopping')!()
    expect((await running).toString()).toBe('echo:gate:while-stopping')
    await stopping
    await waitFor('the worker to leave the server', async () => !(await registeredOn(gearmand.port, clientId)))
  })
})
