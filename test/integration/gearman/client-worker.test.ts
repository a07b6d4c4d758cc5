import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {adminStatus} from '../../../src/gearman/admin.js'
import {GearmanClient} from '../../../src/gearman/client.js'
import {PacketType} from '../../../src/gearman/codec.js'
import {GearmanConnection} from '../../../src/gearman/connection.js'
import {GearmanJobFailedError, GearmanTimeoutError, GearmanUnavailableError} from '../../../src/gearman/errors.js'
import {GearmanWorker, type GearmanJob} from '../../../src/gearman/worker.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {waitFor} from '../../helpers/wait.js'
import {freePort, Gearmand} from './gearmand-process.js'

/** Our client against our worker through a real gearmand. */
describe('GearmanClient with GearmanWorker', () => {
  let gearmand: Gearmand
  let worker: GearmanWorker
  let client: GearmanClient
  const functionName = `lbt-echo-${uniqueSuffix()}`
  const gates = new Map<string, () => void>()
  const logs: string[] = []

  async function handle(job: GearmanJob): Promise<Buffer | string> {
    const text = job.payload.toString('utf8')
    if (text === 'throw') throw new Error('handler failure on purpose')
    if (text === 'reject-sync') return (() => { throw new Error('sync throw') })()
    if (text.startsWith('gate:')) {
      await new Promise<void>((resolve) => gates.set(text, resolve))
      return `opened ${text}`
    }
    if (text === 'chunks') {
      job.sendData('part1,')
      job.sendStatus(1, 2)
      job.sendData('part2,')
      return 'done'
    }
    return Buffer.concat([Buffer.from('echo:'), job.payload])
  }

  beforeAll(async () => {
    gearmand = await Gearmand.start()
    const servers = [{host: '127.0.0.1', port: gearmand.port}]
    worker = new GearmanWorker(
      {servers, functionName, clientId: 'lbt-client-worker', maxInFlight: 2, logger: (level, message) => logs.push(`${level} ${message}`)},
      handle,
    )
    worker.start()
    client = new GearmanClient({servers})
  })

  afterAll(async () => {
    for (const open of gates.values()) open()
    await client?.close()
    await worker?.stop(5_000)
    await gearmand?.stop()
  })

  it('(c) round-trips a 1 MB+ payload of multi-byte UTF-8', async () => {
    const text = 'Grüße ✓ 负载均衡器 🚀\0'.repeat(50_000)
    const payload = Buffer.from(text, 'utf8')
    expect(payload.length).toBeGreaterThan(1024 * 1024)
    const result = await client.submitJob(functionName, payload, {timeoutMs: 60_000})
    expect(result.subarray(0, 5).toString()).toBe('echo:')
    expect(result.subarray(5).equals(payload)).toBe(true)
    expect(result.subarray(5).toString('utf8')).toBe(text)
  })

  it('(c) completes 500 jobs in a row (each one waits for the previous)', async () => {
    // Without setNoDelay, Nagle plus delayed ACK make this take 22 s (measured); with it,
    // well under 1 s. The timeout is 15x the normal run, so only that regression trips it.
    for (let i = 0; i < 500; i++) {
      const result = await client.submitJob(functionName, `job-${i}`, {timeoutMs: 10_000})
      expect(result.toString()).toBe(`echo:job-${i}`)
    }
  }, 15_000)

  it('matches many concurrent submissions to their own results', async () => {
    const payloads = Array.from({length: 300}, (_, i) => `concurrent-${i}-${'é'.repeat(i % 17)}`)
    const results = await Promise.all(payloads.map((payload) => client.submitJob(functionName, payload, {timeoutMs: 30_000})))
    expect(results.map((result) => result.toString('utf8'))).toEqual(payloads.map((payload) => `echo:${payload}`))
  })

  it('runs a quick job while a slow one holds one of the two slots', async () => {
    const slow = client.submitJob(functionName, 'gate:slow', {timeoutMs: 30_000})
    await waitFor('the slow job to start', () => gates.has('gate:slow'))
    expect((await client.submitJob(functionName, 'quick', {timeoutMs: 10_000})).toString()).toBe('echo:quick')
    expect(worker.runningJobs).toBe(1)
    gates.get('gate:slow')!()
    expect((await slow).toString()).toBe('opened gate:slow')
  })

  it('never runs more than maxInFlight jobs at once', async () => {
    const names = ['gate:a', 'gate:b', 'gate:c']
    const jobs = names.map((name) => client.submitJob(functionName, name, {timeoutMs: 30_000}))
    await waitFor('two jobs to start', () => gates.has('gate:a') && gates.has('gate:b'))
    expect(worker.runningJobs).toBe(2)
    expect(gates.has('gate:c')).toBe(false)
    gates.get('gate:a')!()
    await waitFor('the third job to start', () => gates.has('gate:c'))
    gates.get('gate:b')!()
    gates.get('gate:c')!()
    expect((await Promise.all(jobs)).map(String)).toEqual(names.map((name) => `opened ${name}`))
  })

  it('(g) a handler that throws fails only its job; the worker keeps serving', async () => {
    for (const payload of ['throw', 'reject-sync']) {
      const failure = await client.submitJob(functionName, payload, {timeoutMs: 10_000}).catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(GearmanJobFailedError)
      expect((failure as GearmanJobFailedError).code).toBe('gearman_job_failed')
    }
    expect(logs.some((line) => line.includes('handler failure on purpose'))).toBe(true)
    expect((await client.submitJob(functionName, 'still alive', {timeoutMs: 10_000})).toString()).toBe('echo:still alive')
  })

  it('rejects an unencodable submission without disturbing the ones after it', async () => {
    await expect(client.submitJob('bad\0name', 'x', {timeoutMs: 5_000})).rejects.toMatchObject({code: 'gearman_protocol'})
    const results = await Promise.all(['one', 'two'].map((payload) => client.submitJob(functionName, payload, {timeoutMs: 10_000})))
    expect(results.map(String)).toEqual(['echo:one', 'echo:two'])
  })

  it('concatenates WORK_DATA chunks before the WORK_COMPLETE data', async () => {
    expect((await client.submitJob(functionName, 'chunks', {timeoutMs: 10_000})).toString()).toBe('part1,part2,done')
  })

  it('returns the job handle for a background job', async () => {
    const handle = await client.submitJob(functionName, 'in the background', {timeoutMs: 10_000, background: true})
    expect(handle.toString()).toMatch(/^H:/)
  })

  it('times out with a typed error when no worker serves the function', async () => {
    const failure = await client
      .submitJob(`lbt-nobody-${uniqueSuffix()}`, 'x', {timeoutMs: 300})
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(GearmanTimeoutError)
    expect((failure as GearmanTimeoutError).code).toBe('gearman_timeout')
    // The connection stays usable after a timed-out job.
    expect((await client.submitJob(functionName, 'after timeout', {timeoutMs: 10_000})).toString()).toBe('echo:after timeout')
  })

  it('reports WORK_EXCEPTION text from a worker that sends it', async () => {
    const exceptionFunction = `lbt-exc-${uniqueSuffix()}`
    const raw = new GearmanConnection({host: '127.0.0.1', port: gearmand.port})
    raw.on('packet', (packet) => {
      if (packet.type === PacketType.JOB_ASSIGN_UNIQ) {
        raw.send({magic: 'REQ', type: PacketType.WORK_EXCEPTION, args: [packet.args[0]!, 'disk on fire']})
      }
    })
    try {
      await raw.connect()
      raw.send({magic: 'REQ', type: PacketType.CAN_DO, args: [exceptionFunction]})
      const job = client.submitJob(exceptionFunction, 'x', {timeoutMs: 10_000}).catch((error: unknown) => error)
      await waitFor('the job to be queued', async () =>
        (await adminStatus({host: '127.0.0.1', port: gearmand.port})).some((entry) => entry.function === exceptionFunction && entry.total === 1),
      )
      raw.send({magic: 'REQ', type: PacketType.GRAB_JOB_UNIQ, args: []})
      const failure = await job
      expect(failure).toBeInstanceOf(GearmanJobFailedError)
      expect((failure as GearmanJobFailedError).detail).toBe('disk on fire')
    } finally {
      await raw.close()
    }
  })

  it('refuses to submit after close, and fails with gearman_unavailable when no server is reachable', async () => {
    const closed = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmand.port}]})
    await closed.close()
    await expect(closed.submitJob(functionName, 'x', {timeoutMs: 1_000})).rejects.toBeInstanceOf(GearmanUnavailableError)
    const nowhere = new GearmanClient({servers: [{host: '127.0.0.1', port: await freePort()}, {host: '127.0.0.1', port: await freePort()}]})
    try {
      const failure = await nowhere.submitJob(functionName, 'x', {timeoutMs: 5_000}).catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(GearmanUnavailableError)
      expect((failure as GearmanUnavailableError).code).toBe('gearman_unavailable')
    } finally {
      await nowhere.close()
    }
  })

  it('fails over to the next server when the first refuses connections', async () => {
    const failover = new GearmanClient({servers: [{host: '127.0.0.1', port: await freePort()}, {host: '127.0.0.1', port: gearmand.port}]})
    try {
      expect((await failover.submitJob(functionName, 'via second', {timeoutMs: 10_000})).toString()).toBe('echo:via second')
    } finally {
      await failover.close()
    }
  })
})
