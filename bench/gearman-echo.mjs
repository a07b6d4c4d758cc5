#!/usr/bin/env node
// Gearman echo throughput: jobs/s of the in-house client and worker against the
// `gearman` CLI tools, on a private gearmand on a free loopback port.
//
// Run after building (it imports the compiled library):
//   npm run build              (or: npx tsc -p tsconfig.build.json)
//   node bench/gearman-echo.mjs [N]        N jobs per scenario, default 1000, at most 2000
//   (LBAAS_DIST=DIR reads the compiled files from DIR/src/gearman instead of dist/)
//
// Scenarios (all on one private gearmand, killed by its PID at the end):
//   ours→ours sequential   our client, one job at a time, our worker (the latency path)
//   ours→ours 16 in flight our client with 16 jobs outstanding, our worker (maxInFlight 4)
//   ours→cli worker        our client, `gearman -w -- cat` (forks `cat` per job)
//   cli -n→ours            `seq N | gearman -n -f NAME` (one CLI client), our worker
// Numbers are relative: the machine is shared and has 2 vCPUs.

import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {accepts, exited, freePort, sleep} from './local-net.mjs'

const distRoot = process.env.LBAAS_DIST ? pathToFileURL(`${process.env.LBAAS_DIST}/`) : new URL('../dist/', import.meta.url)
const dist = new URL('src/gearman/', distRoot)
const {GearmanClient} = await import(new URL('client.js', dist).href)
const {GearmanWorker} = await import(new URL('worker.js', dist).href)

const N = Math.min(2000, Math.max(1, Number(process.argv[2] ?? 1000) || 1000))
const dir = mkdtempSync(join(tmpdir(), 'lbaas-bench-gearman-'))
const port = await freePort()
const gearmand = spawn('gearmand', ['-L', '127.0.0.1', '-p', String(port), '--log-file', join(dir, 'gearmand.log'), '-P', join(dir, 'gearmand.pid'), '-t', '1'], {stdio: 'ignore'})
const children = [gearmand]
const servers = [{host: '127.0.0.1', port}]
const rows = []

async function measure(name, run) {
  const start = process.hrtime.bigint()
  await run()
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  rows.push({name, jobs: N, ms, rate: (N / ms) * 1000})
}

try {
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await sleep(25)

  const worker = new GearmanWorker({servers, functionName: 'bench-echo', clientId: 'bench-worker', maxInFlight: 4}, async (job) => job.payload)
  worker.start()
  const client = new GearmanClient({servers})
  await client.submitJob('bench-echo', 'warm-up', {timeoutMs: 10_000})

  await measure('ours→ours sequential', async () => {
    for (let i = 0; i < N; i++) await client.submitJob('bench-echo', `job ${i}`, {timeoutMs: 10_000})
  })

  await measure('ours→ours 16 in flight', async () => {
    let next = 0
    const lane = async () => {
      while (next < N) await client.submitJob('bench-echo', `job ${next++}`, {timeoutMs: 10_000})
    }
    await Promise.all(Array.from({length: 16}, lane))
  })

  const catWorker = spawn('gearman', ['-h', '127.0.0.1', '-p', String(port), '-w', '-f', 'bench-cat', '--', 'cat'], {stdio: 'ignore'})
  children.push(catWorker)
  await client.submitJob('bench-cat', 'warm-up', {timeoutMs: 10_000})
  await measure('ours→cli worker (cat)', async () => {
    for (let i = 0; i < N; i++) await client.submitJob('bench-cat', `job ${i}`, {timeoutMs: 10_000})
  })

  await measure('cli -n→ours', async () => {
    const cli = spawn('gearman', ['-h', '127.0.0.1', '-p', String(port), '-n', '-f', 'bench-echo'], {stdio: ['pipe', 'ignore', 'inherit']})
    children.push(cli)
    cli.stdin.end(Array.from({length: N}, (_, i) => `${i + 1}\n`).join(''))
    const code = await exited(cli)
    if (code !== 0) throw new Error(`gearman -n exited with ${code}`)
  })

  await client.close()
  await worker.stop(5_000)

  const baseline = rows[0].rate
  console.log(`\nGearman echo, ${N} jobs per scenario, private gearmand 127.0.0.1:${port}\n`)
  console.log(`${'scenario'.padEnd(26)}${'wall ms'.padStart(10)}${'jobs/s'.padStart(10)}${'vs first'.padStart(10)}`)
  for (const row of rows) {
    console.log(`${row.name.padEnd(26)}${row.ms.toFixed(0).padStart(10)}${row.rate.toFixed(0).padStart(10)}${(row.rate / baseline).toFixed(2).padStart(10)}`)
  }
} finally {
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([exited(child), sleep(3_000)])
    }
  }
  rmSync(dir, {recursive: true, force: true})
}
