#!/usr/bin/env node
// Does the CLI's memory make starting a program slow? Node forks the whole process for
// every program it starts (libuv on Linux), so the time spent inside spawn() could grow with
// the parent's resident memory. Starts N `/bin/true` (three pipes each, as execa does), all
// at once, after growing the JS heap by each of HEAPS MB, and prints the milliseconds spent
// inside spawn() per program beside the process's RSS.
//
//   node bench/experiments/spawn-cost.mjs                  N=200, heap 0, 50, 100 MB
//   N=200 HEAPS="0 100" node bench/experiments/spawn-cost.mjs
import {spawn} from 'node:child_process'

const count = Number(process.env.N ?? 200)
const heaps = (process.env.HEAPS ?? '0 50 100').split(/\s+/).filter(Boolean).map(Number)
if (!Number.isInteger(count) || count < 1 || count > 2000 || heaps.some((mb) => !Number.isInteger(mb) || mb < 0 || mb > 1000)) {
  console.error('N must be 1–2000 and HEAPS whole MB counts 0–1000')
  process.exit(2)
}

async function round() {
  let insideSpawn = 0
  await Promise.all(
    Array.from({length: count}, () =>
      new Promise((resolve, reject) => {
        const started = performance.now()
        const child = spawn('/bin/true', [], {stdio: ['pipe', 'pipe', 'pipe']})
        insideSpawn += performance.now() - started
        child.on('error', reject)
        child.on('close', resolve)
      }),
    ),
  )
  return insideSpawn / count
}

const kept = []
let held = 0
console.log('| JS heap added | RSS | ms inside spawn() per program (3 rounds) |')
console.log('|---|---|---|')
for (const mb of heaps) {
  // ~1 KB strings: about 1,000 per MB of heap.
  for (; held < mb * 1000; held++) kept.push(`${'x'.repeat(900)}${held}`)
  const rounds = [await round(), await round(), await round()].map((ms) => ms.toFixed(2))
  console.log(`| ${mb} MB | ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB | ${rounds.join(' / ')} |`)
}
