#!/usr/bin/env node
// Where does a CLI start-up spend its time? Summarises V8 CPU profiles (`node --cpu-prof`)
// by package (node_modules/<pkg>), by lbaas file (dist/...), or node internals, using the
// self time of every sample. Several profiles (repeated runs) are averaged.
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof ./bin/run.js pool list -f value -c id   (× N)
//   node bench/experiments/profile-summary.mjs /tmp/prof/*.cpuprofile [--by file]
//
// --by package (default) groups node_modules by package and lbaas by top folder;
// --by file lists single files. Prints ms per run, largest first.
import {readFileSync} from 'node:fs'

const args = process.argv.slice(2)
const byFile = args.includes('--by') && args[args.indexOf('--by') + 1] === 'file'
const files = args.filter((arg, index) => !arg.startsWith('--') && args[index - 1] !== '--by')
if (files.length === 0) {
  console.error('usage: node bench/experiments/profile-summary.mjs PROFILE.cpuprofile... [--by package|file]')
  process.exit(2)
}

function bucket(url, fn) {
  if (!url) return fn === '(garbage collector)' ? '(gc)' : fn === '(program)' || fn === '(idle)' ? `(${fn.replace(/[()]/g, '')})` : '(native/builtin)'
  if (url.startsWith('node:')) return byFile ? url : 'node: internals'
  const path = url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = path.slice(nm + 14).split('/')
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
    return byFile ? `${pkg}: ${rest.slice(rest[0].startsWith('@') ? 2 : 1).join('/')}` : pkg
  }
  const dist = path.indexOf('/dist/')
  if (dist >= 0) {
    const rest = path.slice(dist + 6).split('/')
    return byFile ? `lbaas: ${rest.join('/')}` : `lbaas: ${rest.slice(0, rest[0] === 'src' ? 2 : 1).join('/')}`
  }
  return byFile ? path : path.split('/').slice(-2).join('/')
}

const totals = new Map()
let wall = 0
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  wall += (profile.endTime - profile.startTime) / 1000
  profile.samples.forEach((id, index) => {
    const node = nodes.get(id)
    const key = bucket(node.callFrame.url, node.callFrame.functionName)
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000)
  })
}
const rows = [...totals].map(([key, ms]) => [key, ms / files.length]).sort((a, b) => b[1] - a[1])
console.log(`${files.length} profile(s); profiled time per run ${(wall / files.length).toFixed(1)} ms (from V8 start, excludes process start-up)`)
for (const [key, ms] of rows.slice(0, 40)) console.log(`${ms.toFixed(1).padStart(8)} ms  ${key}`)
