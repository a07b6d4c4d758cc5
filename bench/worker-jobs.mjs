#!/usr/bin/env node
// serve-worker benchmarks (SPEC §5), on a private gearmand on a free loopback port, with
// one `lbaas serve-worker` (the BUILT CLI) whose Libra device runs in host mode, bound to
// 0.0.0.0 on a free port, in front of two loopback HTTP backends started here.
//
//   npm run build
//   node bench/worker-jobs.mjs [STATS_JOBS]      default 5000 STATS jobs, at most 20000
//
// 1. STATS jobs/s through the worker (a real `show stat` each), with the in-house client
//    keeping 32 jobs in flight; next to the `gearman` CLI's own worker (`gearman -w -- cat`,
//    which forks cat per job) driven the same way in the same run.
// 2. UPDATE latency: job submitted → PASS and the new configuration answering HTTP, median
//    and p90 over 20 UPDATEs that alternate between the backends (each one a real reload).
// 3. STATS latency while a slow job runs: a 1,000-node UPDATE, with a STATS every 10 ms
//    during it; how long each STATS took.
// Numbers are relative: the machine has 2 vCPUs shared with other workloads. Everything
// started here is stopped by its own PID; the device is DELETEd at the end.

import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {accepts, exited, freePort, sleep} from './local-net.mjs'

const root = new URL('../', import.meta.url)
const {GearmanClient} = await import(new URL('dist/src/gearman/client.js', root).href)
const {adminStatus} = await import(new URL('dist/src/gearman/admin.js', root).href)
const BIN = fileURLToPath(new URL('bin/run.js', root))

const STATS_JOBS = Math.min(20_000, Math.max(100, Number(process.argv[2] ?? 5000) || 5000))
const IN_FLIGHT = 32
function httpGet(port) {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: '/', headers: {Connection: 'close'}, timeout: 2_000}, (response) => {
      let body = ''
      response.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => resolve({status: response.statusCode, body}))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

const dir = mkdtempSync(join(tmpdir(), 'lbt-bench-worker-'))
const children = []
const servers = []
const functionName = `bench-worker-${process.pid}`
let client
let gearmandPort

try {
  gearmandPort = await freePort()
  const gearmand = spawn('gearmand', ['-L', '127.0.0.1', '-p', String(gearmandPort), '--log-file', join(dir, 'gearmand.log'), '-P', join(dir, 'gearmand.pid'), '-t', '2'], {stdio: 'ignore'})
  children.push(gearmand)
  for (let i = 0; i < 200 && !(await accepts(gearmandPort)); i++) await sleep(25)

  const backends = []
  for (const name of ['backend-a', 'backend-b']) {
    const server = createServer((_req, res) => res.end(`${name}\n`))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    backends.push({name, port: server.address().port})
  }
  const devicePort = await freePort()

  const worker = spawn(
    process.execPath,
    [BIN, 'serve-worker', '--state', join(dir, 'state.db'), '--run-dir', join(dir, 'run'), '--server', `127.0.0.1:${gearmandPort}`, '--function', functionName, '--log-file', join(dir, 'worker.log')],
    {stdio: ['ignore', 'ignore', 'ignore']},
  )
  children.push(worker)
  for (let i = 0; i < 400; i++) {
    const status = await adminStatus({host: '127.0.0.1', port: gearmandPort}).catch(() => [])
    if (status.some((entry) => entry.function === functionName && entry.availableWorkers > 0)) break
    await sleep(25)
  }

  client = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmandPort}]})
  const submit = async (name, payload, timeoutMs = 60_000) => JSON.parse((await client.submitJob(name, JSON.stringify(payload), {timeoutMs})).toString('utf8'))
  const update = (backend, extra = {}) =>
    submit(functionName, {
      hpcs_action: 'UPDATE',
      loadBalancers: [{protocol: 'HTTP', port: devicePort, nodes: [{id: 1, address: '127.0.0.1', port: backend.port}], ...extra}],
    })

  const first = await update(backends[0])
  if (first.hpcs_response !== 'PASS') throw new Error(`first UPDATE failed: ${JSON.stringify(first)}`)

  // ---- 1. STATS throughput ---------------------------------------------------------------
  async function throughput(name, payload) {
    await submit(name, payload) // warm-up
    let next = 0
    let failed = 0
    const started = performance.now()
    const lane = async () => {
      while (next < STATS_JOBS) {
        next++
        const answer = (await client.submitJob(name, payload, {timeoutMs: 30_000})).toString('utf8')
        if (name === functionName && !answer.includes('"PASS"')) failed++
      }
    }
    await Promise.all(Array.from({length: IN_FLIGHT}, lane))
    const ms = performance.now() - started
    return {ms, rate: (STATS_JOBS / ms) * 1000, failed}
  }
  const ours = await throughput(functionName, JSON.stringify({hpcs_action: 'STATS'}))

  const catName = `bench-cat-${process.pid}`
  const cat = spawn('gearman', ['-h', '127.0.0.1', '-p', String(gearmandPort), '-w', '-f', catName, '--', 'cat'], {stdio: 'ignore'})
  children.push(cat)
  for (let i = 0; i < 200; i++) {
    const status = await adminStatus({host: '127.0.0.1', port: gearmandPort}).catch(() => [])
    if (status.some((entry) => entry.function === catName && entry.availableWorkers > 0)) break
    await sleep(25)
  }
  const cli = await throughput(catName, JSON.stringify({hpcs_action: 'STATS'}))

  // ---- 2. UPDATE latency -----------------------------------------------------------------
  const latencies = []
  for (let round = 0; round < 20; round++) {
    const backend = backends[(round + 1) % 2]
    const started = performance.now()
    const answer = await update(backend)
    if (answer.hpcs_response !== 'PASS') throw new Error(`UPDATE failed: ${JSON.stringify(answer)}`)
    for (let attempt = 0; attempt < 200; attempt++) {
      const reply = await httpGet(devicePort).catch(() => undefined)
      if (reply?.status === 200 && reply.body === `${backend.name}\n`) break
      await sleep(2)
    }
    latencies.push(performance.now() - started)
  }

  // ---- 3. STATS during a 1,000-node UPDATE ------------------------------------------------
  // Twice: the first one also pays for the JIT warming up on 1,000-node documents.
  const nodes = Array.from({length: 1000}, (_, i) => ({id: i + 1, address: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`, port: 9}))
  async function statsDuringBigUpdate() {
    const samples = []
    let updating = true
    const started = performance.now()
    const big = submit(functionName, {hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'HTTP', port: devicePort, nodes}]}).finally(() => (updating = false))
    while (updating) {
      const sent = performance.now()
      const answer = await submit(functionName, {hpcs_action: 'STATS'}, 10_000)
      if (updating) samples.push({at: sent - started, ms: performance.now() - sent, pass: answer.hpcs_response === 'PASS'})
      await sleep(10)
    }
    const answer = await big
    const result = {ms: performance.now() - started, response: answer.hpcs_response, samples}
    if ((await update(backends[0])).hpcs_response !== 'PASS') throw new Error('could not go back to the small configuration')
    return result
  }
  const bigRuns = [await statsDuringBigUpdate(), await statsDuringBigUpdate()]
  if (process.env.BENCH_VERBOSE) for (const run of bigRuns) console.log(run.samples.map((e) => `${e.at.toFixed(0)}:${e.ms.toFixed(1)}`).join(' '))

  await submit(functionName, {hpcs_action: 'DELETE'})

  const row = (label, value) => console.log(`| ${label} | ${value} |`)
  console.log(`\nserve-worker benchmarks (private gearmand 127.0.0.1:${gearmandPort}, ${STATS_JOBS} STATS jobs, ${IN_FLIGHT} in flight)\n`)
  console.log('| measure | result |')
  console.log('|---|---|')
  row('STATS through lbaas serve-worker', `${ours.rate.toFixed(0)} jobs/s (${ours.ms.toFixed(0)} ms, ${ours.failed} not PASS)`)
  row('same jobs through `gearman -w -- cat`', `${cli.rate.toFixed(0)} jobs/s (${cli.ms.toFixed(0)} ms)`)
  row('ratio serve-worker / cat worker', (ours.rate / cli.rate).toFixed(2))
  row('UPDATE → PASS and serving, median (20 reloads)', `${percentile(latencies, 50).toFixed(0)} ms`)
  row('UPDATE → PASS and serving, p90 / max', `${percentile(latencies, 90).toFixed(0)} ms / ${Math.max(...latencies).toFixed(0)} ms`)
  for (const [index, run] of bigRuns.entries()) {
    const label = index === 0 ? 'first 1,000-node UPDATE' : 'second 1,000-node UPDATE'
    const times = run.samples.map((entry) => entry.ms)
    row(`${label}, submitted → answer`, `${run.ms.toFixed(0)} ms (${run.response})`)
    row(`STATS during the ${label}: count, all PASS`, `${run.samples.length}, ${run.samples.every((entry) => entry.pass)}`)
    if (times.length > 0) row(`STATS during the ${label}: median / max`, `${percentile(times, 50).toFixed(1)} ms / ${Math.max(...times).toFixed(1)} ms`)
  }
} finally {
  await client?.close().catch(() => undefined)
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([exited(child), sleep(10_000)])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  }
  for (const server of servers) server.close()
  rmSync(dir, {recursive: true, force: true})
}
