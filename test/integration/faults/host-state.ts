/**
 * What a state file and its run dir hold on this host, for the fault tests: the rows (read
 * straight from SQLite), and everything of this tool the host carries for that run dir
 * (namespaces of known pool ids, owner-tagged links, HAProxy processes naming the run
 * dir, run-dir entries, lock files). `hostMismatches` lists every way the host differs
 * from the state file; an empty list is a converged host.
 */
import {existsSync, readdirSync} from 'node:fs'

import Database from 'better-sqlite3'
import {expect} from 'vitest'

import {showStat} from '../../../src/haproxy/runtime.js'
import {runningMaster} from '../../../src/host/haproxy-process.js'
import {ownerTag, poolPaths, vipHostLink} from '../../../src/host/names.js'
import {namespaceExists} from '../../../src/host/netns.js'
import {findProcesses} from '../../../src/host/proc.js'
import {run} from '../../../src/host/run.js'
import type {SyncAction} from '../../../src/service/sync.js'
import type {LabInfo, TrafficLab} from '../../helpers/traffic-lab.js'

export interface StateRows {
  pools: {id: string; status: string}[]
  vips: {id: string; pool_id: string; address: string; status: string}[]
  members: {id: string; pool_id: string; address: string; protocol_port: number; status: string}[]
  associations: {pool_id: string; monitor_id: string; status: string}[]
  monitors: {id: string}[]
}

export function readState(statePath: string): StateRows {
  const db = new Database(statePath, {readonly: true, fileMustExist: true})
  try {
    return {
      pools: db.prepare('SELECT id, status FROM pools ORDER BY id').all() as StateRows['pools'],
      vips: db.prepare('SELECT id, pool_id, address, status FROM vips ORDER BY id').all() as StateRows['vips'],
      members: db.prepare('SELECT id, pool_id, address, protocol_port, status FROM members ORDER BY id').all() as StateRows['members'],
      associations: db.prepare('SELECT pool_id, monitor_id, status FROM associations ORDER BY pool_id, monitor_id').all() as StateRows['associations'],
      monitors: db.prepare('SELECT id FROM monitors ORDER BY id').all() as StateRows['monitors'],
    }
  } finally {
    db.close()
  }
}

/** Links whose alias is `owner`, by name. */
export async function ownerTaggedLinks(owner: string): Promise<string[]> {
  const result = await run(['ip', '-j', 'link', 'show'], {timeoutMs: 10_000})
  const links = JSON.parse(result.stdout) as {ifname: string; ifalias?: string}[]
  return links.filter((link) => link.ifalias === owner).map((link) => link.ifname).sort()
}

/** HAProxy processes whose argv names a file under `runDir`, with the pool id they serve. */
export function haproxyProcessesOf(runDir: string): {pid: number; id: string}[] {
  const prefix = `${runDir}/`
  return findProcesses((argv) => argv[0]?.endsWith('haproxy') === true && argv.some((arg) => arg.startsWith(prefix))).map((process) => ({
    pid: process.pid,
    id: process.argv.find((arg) => arg.startsWith(prefix))!.slice(prefix.length).split('/')[0],
  }))
}

/** Files a healthy deployed pool's run-dir entry may hold. */
const POOL_FILES = new Set([
  'haproxy.cfg',
  'haproxy.cfg.applied',
  'haproxy.cfg.last-good',
  'server-state',
  'stats.sock',
  'master.sock',
  'haproxy.pid',
  'haproxy.identity',
])
const REQUIRED_POOL_FILES = ['haproxy.cfg', 'haproxy.cfg.applied', 'server-state', 'stats.sock', 'master.sock', 'haproxy.pid', 'haproxy.identity']

export interface HostExpectation {
  statePath: string
  runDir: string
  /** Every pool id the test ever created here (also those deleted since). */
  knownPoolIds: Iterable<string>
  /** Managed bridges of the state file (owner-tagged, expected to stay). */
  bridges: readonly string[]
  /** Extra owner-tagged links that are expected (e.g. lab backend veths). */
  allowLink?: (name: string) => boolean
  /** Ids of Libra devices: they own a run-dir entry, HAProxy and VIP link like a served pool. */
  devices?: readonly string[]
}

/**
 * Every difference between the host and the state file, in words; [] when they match:
 * no PENDING_* or ERROR row, a namespace, a running HAProxy, a VIP link and a complete
 * run-dir entry exactly for the pools with a VIP, HAProxy serving exactly the state's
 * members, and nothing else of ours (namespace, link, process, run-dir entry, lock file).
 */
export async function hostMismatches(expectation: HostExpectation): Promise<string[]> {
  const problems: string[] = []
  const state = readState(expectation.statePath)
  const {runDir} = expectation
  for (const [kind, rows] of [['pool', state.pools], ['vip', state.vips], ['member', state.members]] as const) {
    for (const row of rows) if (row.status !== 'ACTIVE') problems.push(`${kind} ${row.id} is ${row.status}`)
  }
  for (const row of state.associations) if (row.status !== 'ACTIVE') problems.push(`association ${row.pool_id}/${row.monitor_id} is ${row.status}`)

  const served = new Set(state.vips.map((vip) => vip.pool_id))
  const poolIds = new Set([...expectation.knownPoolIds, ...state.pools.map((pool) => pool.id)])
  for (const id of poolIds) {
    const paths = poolPaths(runDir, id)
    const namespace = namespaceExists(`lbaas-${id}`)
    const running = runningMaster(paths) !== undefined
    if (!served.has(id)) {
      if (namespace) problems.push(`pool ${id} has no VIP but its namespace exists`)
      if (running) problems.push(`pool ${id} has no VIP but HAProxy runs`)
      if (existsSync(paths.dir)) problems.push(`pool ${id} has no VIP but its run-dir entry exists`)
      continue
    }
    if (!namespace) problems.push(`pool ${id} has a VIP but no namespace`)
    if (!running) {
      problems.push(`pool ${id} has a VIP but HAProxy does not run`)
      continue
    }
    const files = existsSync(paths.dir) ? readdirSync(paths.dir) : []
    for (const file of files) if (!POOL_FILES.has(file)) problems.push(`pool ${id}: unexpected file ${file} in its run-dir entry`)
    for (const file of REQUIRED_POOL_FILES) if (!files.includes(file)) problems.push(`pool ${id}: ${file} is missing`)
    try {
      const stat = await showStat(paths.statsSocket, {timeoutMs: 3_000})
      const servers = stat.servers.filter((server) => server.backend === id).map((server) => server.name).sort()
      const members = state.members.filter((member) => member.pool_id === id).map((member) => member.id).sort()
      if (JSON.stringify(servers) !== JSON.stringify(members)) {
        problems.push(`pool ${id}: HAProxy serves ${JSON.stringify(servers)}, the state file has ${JSON.stringify(members)}`)
      }
    } catch (error) {
      problems.push(`pool ${id}: show stat failed: ${(error as Error).message}`)
    }
  }

  const owned = new Set([...served, ...(expectation.devices ?? [])])
  const entries = existsSync(runDir) ? readdirSync(runDir) : []
  for (const entry of entries) {
    if (entry === 'locks' || entry === 'lab') continue
    if (!owned.has(entry)) problems.push(`run-dir entry ${entry} belongs to no served pool`)
  }
  const locks = existsSync(`${runDir}/locks`) ? readdirSync(`${runDir}/locks`) : []
  if (locks.length > 0) problems.push(`lock files left: ${locks.join(', ')}`)

  for (const process of haproxyProcessesOf(runDir)) {
    if (!owned.has(process.id)) problems.push(`HAProxy ${process.pid} runs for ${process.id}, which has no VIP`)
  }

  const owner = ownerTag(runDir)
  const expectedLinks = new Set([...[...owned].map((id) => vipHostLink(id)), ...expectation.bridges])
  const links = await ownerTaggedLinks(owner)
  for (const link of links) {
    if (!expectedLinks.has(link) && !expectation.allowLink?.(link)) problems.push(`link ${link} carries our owner tag but belongs to nothing`)
  }
  for (const link of expectedLinks) if (!links.includes(link)) problems.push(`link ${link} is missing`)
  return problems
}

/**
 * A trafficLab world is converged: its host matches its state file (hostMismatches, with
 * the lab's bridge and backend links expected) and `lbaas sync` has nothing left to do.
 */
export async function expectConverged(world: TrafficLab, lab: LabInfo, known: {pools: Iterable<string>; devices?: readonly string[]}): Promise<void> {
  const problems = await hostMismatches({
    statePath: world.cli.statePath,
    runDir: world.runDir,
    knownPoolIds: known.pools,
    bridges: [lab.bridge],
    allowLink: (name) => name.startsWith('lbl'),
    devices: known.devices,
  })
  expect(problems).toEqual([])
  const plan = await world.cli.json<SyncAction[]>(['sync', '--dry-run', '--json'])
  expect(plan, `sync still plans: ${JSON.stringify(plan)}`).toEqual([])
}
