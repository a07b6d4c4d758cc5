#!/usr/bin/env node
// Merges hyperfine JSON exports (several rounds of the same commands, run interleaved so
// that load changes on a shared machine hit every command alike) and prints one Markdown
// table: median, quartiles, min, number of runs, and the ratio of each median to the first
// command's (the baseline). From hyperfine exports it also gives the mean CPU time
// (user + system) of each command, which contention on a shared machine inflates much
// less than wall time.
//
//   node bench/hf-summary.mjs round1.json round2.json ...
//   node bench/hf-summary.mjs --times LABEL=FILE ...   (FILE: one wall time in ms per line)
import {readFileSync} from 'node:fs'

const args = process.argv.slice(2)
const groups = new Map()
const cpu = new Map()
const add = (label, seconds) => {
  if (!groups.has(label)) groups.set(label, [])
  groups.get(label).push(...seconds)
}
if (args[0] === '--times') {
  for (const arg of args.slice(1)) {
    const at = arg.indexOf('=')
    const lines = readFileSync(arg.slice(at + 1), 'utf8').split('\n').filter((line) => line.trim() !== '')
    add(arg.slice(0, at), lines.map((line) => Number(line) / 1000))
  }
} else {
  for (const file of args) {
    for (const result of JSON.parse(readFileSync(file, 'utf8')).results) {
      add(result.command, result.times)
      const sum = cpu.get(result.command) ?? {seconds: 0, runs: 0}
      sum.seconds += (result.user + result.system) * result.times.length
      sum.runs += result.times.length
      cpu.set(result.command, sum)
    }
  }
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low)
}

const ms = (seconds) => (seconds * 1000).toFixed(1)
let baseline
let cpuBaseline
const withCpu = cpu.size > 0
console.log(`| command | median ms | p25–p75 ms | min ms | runs | median / first |${withCpu ? ' CPU (user+sys) ms | CPU / first |' : ''}`)
console.log(`|---|---|---|---|---|---|${withCpu ? '---|---|' : ''}`)
for (const [label, times] of groups) {
  const sorted = [...times].sort((a, b) => a - b)
  const median = quantile(sorted, 0.5)
  baseline ??= median
  let cpuCells = ''
  if (withCpu) {
    const {seconds, runs} = cpu.get(label)
    const mean = seconds / runs
    cpuBaseline ??= mean
    cpuCells = ` ${ms(mean)} | ${(mean / cpuBaseline).toFixed(2)}× |`
  }
  console.log(
    `| \`${label}\` | ${ms(median)} | ${ms(quantile(sorted, 0.25))}–${ms(quantile(sorted, 0.75))} | ${ms(sorted[0])} | ${sorted.length} | ${(median / baseline).toFixed(2)}× |${cpuCells}`,
  )
}
