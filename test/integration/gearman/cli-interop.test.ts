import {execFile, spawn} from 'node:child_process'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {adminCommand, adminStatus, adminVersion, adminWorkers} from '../../../src/gearman/admin.js'
import {GearmanClient} from '../../../src/gearman/client.js'
import {GearmanProtocolError} from '../../../src/gearman/errors.js'
import {GearmanWorker} from '../../../src/gearman/worker.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {waitFor} from '../../helpers/wait.js'
import {Gearmand} from './gearmand-process.js'

const run = promisify(execFile)

/** Interop with the real gearmand and the `gearman` command-line tools (gearman-tools). */
describe('gearman protocol against gearmand and the gearman CLI', () => {
  let gearmand: Gearmand
  let worker: GearmanWorker
  const functionName = `lbt-cli-${uniqueSuffix()}`
  const clientId = `lbt-worker-${uniqueSuffix()}`
  const logs: string[] = []

  beforeAll(async () => {
    gearmand = await Gearmand.start()
    worker = new GearmanWorker(
      {servers: [{host: '127.0.0.1', port: gearmand.port}], functionName, clientId, maxInFlight: 2, logger: (level, message) => logs.push(`${level} ${message}`)},
      async (job) => {
        const text = job.payload.toString('utf8')
        if (text === 'boom') throw new Error('handler exploded')
        return `echo:${text}|unique:${job.unique.length > 0}`
      },
    )
    worker.start()
  })

  afterAll(async () => {
    await worker?.stop(5_000)
    await gearmand?.stop()
  })

  const cli = (args: string[]) =>
    run('gearman', ['-h', '127.0.0.1', '-p', String(gearmand.port), ...args], {timeout: 20_000, encoding: 'utf8'})

  it('(a) answers jobs sent by the gearman CLI client, UTF-8 included', async () => {
    const {stdout} = await cli(['-f', functionName, 'hello'])
    expect(stdout).toBe('echo:hello|unique:true')
    const {stdout: utf8} = await cli(['-f', functionName, 'héllo ✓ 负载'])
    expect(utf8).toBe('echo:héllo ✓ 负载|unique:true')
  })

  it('(a) answers many jobs from one CLI process (gearman -n, one job per line)', async () => {
    const child = spawn('gearman', ['-h', '127.0.0.1', '-p', String(gearmand.port), '-N', '-f', functionName], {
      stdio: ['pipe', 'pipe', 'ignore'],
    })
    try {
      let stdout = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.stdin.end(Array.from({length: 200}, (_, i) => `line${i}\n`).join(''))
      expect(await exited).toBe(0)
      expect(stdout.split('echo:line').length - 1).toBe(200)
      expect(stdout).toContain('echo:line199|unique:true')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('(g) keeps serving after a handler throws; the CLI sees the failure', async () => {
    await expect(cli(['-f', functionName, 'boom'])).rejects.toThrow()
    expect(logs.some((line) => line.includes('handler exploded'))).toBe(true)
    const {stdout} = await cli(['-f', functionName, 'after'])
    expect(stdout).toBe('echo:after|unique:true')
  })

  it('(b) gets results from the gearman CLI worker (gearman -w -- cat)', async () => {
    const catFunction = `lbt-cat-${uniqueSuffix()}`
    const catWorker = spawn('gearman', ['-h', '127.0.0.1', '-p', String(gearmand.port), '-w', '-f', catFunction, '--', 'cat'], {
      stdio: 'ignore',
    })
    const client = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmand.port}]})
    try {
      expect((await client.submitJob(catFunction, 'through cat ✓', {timeoutMs: 20_000})).toString('utf8')).toBe('through cat ✓')
      const payloads = Array.from({length: 20}, (_, i) => `job ${i} ${'x'.repeat(i * 100)}`)
      const results = await Promise.all(payloads.map((payload) => client.submitJob(catFunction, payload, {timeoutMs: 20_000})))
      expect(results.map((result) => result.toString('utf8'))).toEqual(payloads)
    } finally {
      await client.close()
      catWorker.kill('SIGTERM')
    }
  })

  it('(d) admin status, workers and version show our worker', async () => {
    const server = {host: '127.0.0.1', port: gearmand.port}
    const registered = await waitFor('our worker in `workers`', async () =>
      (await adminWorkers(server)).find((connection) => connection.clientId === clientId),
    )
    expect(registered.functions).toEqual([functionName])
    expect(registered.ip).toBe('127.0.0.1')
    const status = (await adminStatus(server)).find((entry) => entry.function === functionName)
    expect(status).toMatchObject({function: functionName, running: 0, availableWorkers: 1})
    expect(await adminVersion(server)).toMatch(/^\d+\.\d+/)
  })

  it('(d) an unknown admin command is a protocol error, not a hang', async () => {
    await expect(adminCommand({host: '127.0.0.1', port: gearmand.port}, 'no-such-command', true)).rejects.toBeInstanceOf(
      GearmanProtocolError,
    )
  })
})
