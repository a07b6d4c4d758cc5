#!/usr/bin/env node
// Where the start-up of one CLI invocation goes, phase by phase, median of N runs:
//   node boot      process start → first line of the entry script (process.uptime())
//   oclif import   `import('@oclif/core')` (CommonJS, ~110–160 files)
//   oclif init     Config.load: package.json, oclif.manifest.json, core plugins, init hook
//   command load   importing the command's module and everything it imports statically
//   command run    run(): parsing, opening the state file (and what it imports lazily), work, output
//   exit           after run() until the process is gone (measured from outside)
// The phases come from oclif's own performance markers (settings.performanceEnabled), so the
// entry point is a wrapper equivalent to bin/run.js; it sets OCLIF_DISABLE_ENGINE_WARNING
// exactly as bin/run.js does when bin/run.js does (detected from its text). It always goes
// through oclif: for the plain listings, which bin/run.js answers on its fast path without
// oclif, it shows what they would cost through oclif (what every other command pays).
//
//   node bench/startup-phases.mjs [--runs N] CLI_BIN ARGS...
//   e.g. LBAAS_STATE=/tmp/x/state.db node bench/startup-phases.mjs --runs 20 ./bin/run.js pool list -f value -c id
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

let args = process.argv.slice(2)
let runs = 15
if (args[0] === '--runs') {
  runs = Math.min(200, Math.max(1, Number(args[1]) || 15))
  args = args.slice(2)
}
const [bin, ...cliArgs] = args
if (!bin) {
  console.error('usage: node bench/startup-phases.mjs [--runs N] CLI_BIN ARGS...')
  process.exit(2)
}
const binPath = resolve(bin)
const root = dirname(dirname(binPath))
const disablesEngineCheck = readFileSync(binPath, 'utf8').includes('OCLIF_DISABLE_ENGINE_WARNING')
const core = pathToFileURL(join(root, 'node_modules/@oclif/core/lib/index.js')).href
const dir = mkdtempSync(join(tmpdir(), 'lbphase.'))
const wrapper = join(dir, 'phases.mjs')
writeFileSync(
  wrapper,
  `const boot = process.uptime() * 1000
${disablesEngineCheck ? "process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'" : ''}
const t0 = performance.now()
const {execute, settings, Performance} = await import(${JSON.stringify(core)})
const imported = performance.now() - t0
settings.performanceEnabled = true
await execute({dir: ${JSON.stringify(pathToFileURL(binPath).href)}})
const p = Performance.oclifPerf
process.stderr.write('@@PHASES ' + JSON.stringify({boot, imported, init: p['oclif.initMs'], load: p['oclif.commandLoadMs'], run: p['oclif.commandRunMs'], inside: process.uptime() * 1000}) + '\\n')
`,
)

const rows = []
try {
  for (let index = 0; index < runs; index++) {
    const started = performance.now()
    const result = spawnSync(process.execPath, [wrapper, ...cliArgs], {encoding: 'utf8', maxBuffer: 64 << 20})
    const wall = performance.now() - started
    const line = result.stderr.split('\n').find((text) => text.startsWith('@@PHASES '))
    if (!line) throw new Error(`no phase line (exit ${result.status}): ${result.stderr.slice(0, 500)}`)
    rows.push({...JSON.parse(line.slice(9)), wall})
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = (sorted.length - 1) / 2
  return (sorted[Math.floor(middle)] + sorted[Math.ceil(middle)]) / 2
}
const phases = [
  ['node boot', (row) => row.boot],
  ['oclif import', (row) => row.imported],
  ['oclif init (config, manifest, plugins)', (row) => row.init],
  ['command load (static imports)', (row) => row.load],
  ['command run', (row) => row.run],
  ['exit and rest', (row) => row.wall - row.boot - row.imported - row.init - row.load - row.run],
  ['wall (spawnSync)', (row) => row.wall],
]
console.log(`\`${[bin, ...cliArgs].join(' ')}\`: median of ${runs} runs${disablesEngineCheck ? ' (engine check skipped, as bin/run.js does)' : ''}\n`)
console.log('| phase | median ms |')
console.log('|---|---|')
for (const [name, pick] of phases) console.log(`| ${name} | ${median(rows.map(pick)).toFixed(1)} |`)
