#!/usr/bin/env node
// Time to turn one pool of a state file into its HAProxy configuration, in process: read the
// pool graph (SQLite), build the view, render the text. The first round (cold: modules just
// loaded, nothing JIT-compiled, as in a CLI process) and the median of RUNS warm rounds.
//
//   node bench/render-time.mjs STATE_FILE POOL_ID [--runs N] [--dist DIST_DIR]
// Prints "MEMBERS cold_ms warm_median_ms config_bytes".
import {distLoader} from './inert-context.mjs'

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(name)
  if (at === -1) return fallback
  const [, value] = args.splice(at, 2)
  return value
}
const runs = Number(option('--runs', '50'))
const load = distLoader(option('--dist'))
const [stateFile, pool] = args
if (!stateFile || !pool || args.length !== 2 || !Number.isInteger(runs) || runs < 1 || runs > 10_000) {
  console.error('usage: node bench/render-time.mjs STATE_FILE POOL_ID [--runs N] [--dist DIST_DIR]')
  process.exit(2)
}
const {openStore} = await load('src/store/db.js')
const {loadPoolGraph} = await load('src/store/graph.js')
const {buildPoolView} = await load('src/haproxy/view.js')
const {renderConfig} = await load('src/haproxy/render.js')

const options = {
  statsSocket: '/run/lbaas/x/stats.sock',
  serverStateFile: '/run/lbaas/x/server-state',
  maxconn: 8000,
  user: 'nobody',
  group: 'nogroup',
  hardStopAfter: '30s',
}
const store = openStore(stateFile)
const renderOnce = () => {
  const started = performance.now()
  const graph = loadPoolGraph(store.db, pool)
  if (!graph) throw new Error(`no pool ${pool}`)
  const config = renderConfig(buildPoolView(graph, options))
  return {ms: performance.now() - started, members: graph.members.length, bytes: Buffer.byteLength(config)}
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
const cold = renderOnce()
const warm = Array.from({length: runs}, () => renderOnce().ms)
console.log(`${cold.members} ${cold.ms.toFixed(2)} ${median(warm).toFixed(2)} ${cold.bytes}`)
store.close()
