#!/usr/bin/env node
// Pings never starve (SPEC §5): STATS/DISCOVER latency through one `lbaas serve-worker`
// (the BUILT CLI) on a private gearmand, with no slow job, then with 100 slow jobs queued.
//
//   npm run build
//   node bench/worker-pings.mjs [PINGS]        default 200 pings per phase, at most 5000
//
// The slow jobs are 100 native UNDEPLOYs of one pool whose lock this script holds: they
// wait (as a deploy behind a held lock does) until the script releases it after the
// second phase. Pings go one at a time, cycling Libra STATS, Libra DISCOVER, native
// DISCOVER and native STATS. Everything started here is stopped by its own PID.

import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {accepts, exited, freePort, sleep} from './local-net.mjs'

const root = new URL('../', import.meta.url)
const {GearmanClient} = await import(new URL('dist/src/gearman/client.js', root).href)
const {adminStatus} = await import(new URL('dist/src/gearman/admin.js', root).href)
const {acquirePoolLock} = await import(new URL('dist/src/host/lock.js', root).href)
const BIN = fileURLToPath(new URL('bin/run.js', root))

const PINGS = Math.min(5000, Math.max(20, Number(process.argv[2] ?? 200) || 200))
const SLOW_JOBS = 100

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

const dir = mkdtempSync(join(tmpdir(), 'lbt-bench-pings-'))
const children = []
const functionName = `bench-pings-${process.pid}`
let client
let lock

try {
  const port = await freePort()
  const gearmand = spawn('gearmand', ['-L', '127.0.0.1', '-p', String(port), '--log-file', join(dir, 'gearmand.log'), '-P', join(dir, 'gearmand.pid'), '-t', '2'], {stdio: 'ignore'})
  children.push(gearmand)
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await sleep(25)
  const worker = spawn(
    process.execPath,
    [BIN, 'serve-worker', '--state', join(dir, 'state.db'), '--run-dir', join(dir, 'run'), '--server', `127.0.0.1:${port}`, '--function', functionName, '--log-file', join(dir, 'worker.log')],
    {stdio: ['ignore', 'ignore', 'ignore']},
  )
  children.push(worker)
  const status = async () => (await adminStatus({host: '127.0.0.1', port}).catch(() => [])).find((entry) => entry.function === functionName)
  for (let i = 0; i < 400 && !((await status())?.availableWorkers > 0); i++) await sleep(25)

  client = new GearmanClient({servers: [{host: '127.0.0.1', port}]})
  const submit = async (payload) => JSON.parse((await client.submitJob(functionName, JSON.stringify(payload), {timeoutMs: 60_000})).toString('utf8'))
  const pings = [
    {hpcs_action: 'STATS'},
    {hpcs_action: 'DISCOVER'},
    {lbaas_action: 'DISCOVER', lbaas_version: 1},
    {lbaas_action: 'STATS', lbaas_version: 1, pool_id: randomUUID()},
  ]
  async function measure() {
    const latencies = []
    for (let i = 0; i < PINGS; i++) {
      const started = performance.now()
      await submit(pings[i % pings.length])
      latencies.push(performance.now() - started)
    }
    return latencies
  }
  for (const ping of pings) await submit(ping) // warm-up

  const idle = await measure()

  const poolId = randomUUID()
  lock = await acquirePoolLock(join(dir, 'run'), poolId)
  let slowDone = 0
  const slow = Array.from({length: SLOW_JOBS}, () => submit({lbaas_action: 'UNDEPLOY', lbaas_version: 1, pool_id: poolId}).finally(() => slowDone++))
  for (let i = 0; i < 400 && !((await status())?.running >= SLOW_JOBS); i++) await sleep(25)
  const queued = await status()
  const behind = await measure()
  const stillQueued = SLOW_JOBS - slowDone
  lock.release()
  lock = undefined
  await Promise.all(slow)

  const row = (name, values) =>
    `| ${name} | ${PINGS} | ${percentile(values, 50).toFixed(1)} | ${percentile(values, 99).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`
  console.log(`load average: ${(await import('node:os')).loadavg().map((value) => value.toFixed(1)).join(' ')}`)
  console.log(`slow jobs held by the worker during phase 2: ${queued?.running ?? '?'} (gearmand "running"), still outstanding at its end: ${stillQueued}`)
  console.log('| phase | pings | p50 ms | p99 ms | max ms |')
  console.log('|---|---|---|---|---|')
  console.log(row('no slow job', idle))
  console.log(row(`${SLOW_JOBS} slow jobs queued`, behind))
} finally {
  lock?.release()
  await client?.close()
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([exited(child), sleep(10_000)])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  }
  rmSync(dir, {recursive: true, force: true})
}
