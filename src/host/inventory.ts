/**
 * What exists on this host that belongs to one state file (SPEC §4.5): the run-dir
 * entries of its run dir (files, the recorded HAProxy master and its identity verdict,
 * what configuration runs, whether a command holds the entry's lock), and the namespaces,
 * links and bridges with lbaas's prefixes, each with whether it carries this run dir's
 * owner tag. `lbaas sync` plans from this report and the state file; it never inspects
 * the host itself. Reading only: nothing here changes the host.
 *
 * The VIP plugs and managed bridges the state file expects are given as requests, so
 * the report can say what each still lacks (plug.ts / links.ts plans).
 */
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'

import {masterIdentity, unrecordedHaproxies} from './haproxy-process.js'
import type {IdentityVerdict} from './identity.js'
import {inspectLink, listLinks, planBridge} from './links.js'
import {liveLockHolder} from './lock.js'
import {
  LAB_LINK_PREFIX,
  LAB_NAMESPACE_PREFIX,
  MANAGED_BRIDGE_PREFIX,
  POOL_NAMESPACE_PREFIX,
  VIP_LINK_PREFIX,
  ownerTag,
  haPeerFromNamespace,
  poolIdFromNamespace,
  type HaPeerRole,
  poolIdsIn,
  poolLockPath,
  poolPaths,
  vipHostLink,
} from './names.js'
import {haPeerStatus} from './ha-peer.js'
import {listNamespaces, namespaceExists} from './netns.js'
import {planVipPlug, type PlugSpec} from './plug.js'
import {findProcesses, type ProcessInfo} from './proc.js'
import {isTemporaryInUse} from './run-files.js'
import {settleWithConcurrency} from '../util/concurrency.js'

export interface RunEntryReport {
  id: string
  files: string[]
  /** The recorded master, judged by SPEC §4.7. */
  master: {pid?: number; verdict: IdentityVerdict}
  /** SHA-256 of `haproxy.cfg`; null when there is none. */
  configSha: string | null
  /** SHA-256 of what the running HAProxy loaded (`haproxy.cfg.applied`); null when unknown. */
  appliedSha: string | null
  /** A live command holds the entry's pool lock: its files are work in progress. */
  lockHeld: boolean
  /** Temporaries named after a live process (run-files.ts `isTemporaryInUse`): not stray while it lives. */
  inUse: string[]
  /** HAProxy processes loading this entry's configuration that are not its recorded master. */
  unrecorded: {pid: number; startTime: number}[]
}

export interface OwnedName {
  name: string
  /** Carries this run dir's owner tag (a namespace: its VIP or lab link does). */
  ours: boolean
}

export interface BridgeReport {
  name: string
  exists: boolean
  isBridge: boolean
  /** What ensureBridge would change (managed bridges only). */
  changes: string[]
  /** Why it cannot be planned (e.g. a link of that name that is not a bridge). */
  problem?: string
}

export interface HostInventory {
  owner: string
  runEntries: RunEntryReport[]
  /** `lbaas-<uuid>` namespaces, with the pool id. */
  poolNamespaces: (OwnedName & {id: string})[]
  vipLinks: OwnedName[]
  managedBridges: OwnedName[]
  labNamespaces: OwnedName[]
  /** Plug steps still needed, by pool id (for the requested plugs; an HA peer's plug under its pool id). */
  plugs: Record<string, string[]>
  /** The requested HA peers of this host (SPEC §11), by pool id: their namespace and keepalived. */
  haPeers: Record<string, {namespace: boolean; keepalivedRunning: boolean}>
  /** The requested bridges. */
  bridges: Record<string, BridgeReport>
}

export interface InventoryRequest {
  runDir: string
  plugs?: readonly PlugSpec[]
  /** This host's HA peers to look at (namespace `lbaas-<id>-<a|b>`, keepalived). */
  haPeers?: readonly {poolId: string; role: HaPeerRole}[]
  bridges?: readonly {name: string; gatewayCidr?: string; managed: boolean}[]
}

function sha256OfFile(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path, 'utf8')).digest('hex')
  } catch {
    return null
  }
}

function readTrimmed(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/** One run-dir entry (also used under the pool lock, for a fresh look before acting). */
export function inspectRunEntry(runDir: string, id: string, haproxies?: readonly ProcessInfo[]): RunEntryReport | undefined {
  const paths = poolPaths(runDir, id)
  if (!existsSync(paths.dir)) return undefined
  let files: string[]
  try {
    files = readdirSync(paths.dir).sort()
  } catch {
    return undefined
  }
  const {record, verdict} = masterIdentity(paths)
  return {
    id,
    files,
    master: {pid: record?.pid, verdict},
    configSha: sha256OfFile(paths.config),
    appliedSha: readTrimmed(paths.configApplied),
    lockHeld: liveLockHolder(poolLockPath(runDir, id)) !== undefined,
    inUse: files.filter(isTemporaryInUse),
    unrecorded: unrecordedHaproxies(paths, haproxies).map(({pid, startTime}) => ({pid, startTime})),
  }
}

const aliasIs = (link: string, owner: string) => inspectLink(link).alias === owner

export async function takeInventory(request: InventoryRequest): Promise<HostInventory> {
  const {runDir} = request
  const owner = ownerTag(runDir)
  const entries = existsSync(runDir) ? poolIdsIn(readdirSync(runDir)) : []
  // Pool ids of HAProxy processes loading a configuration in our run dir whose entry is gone.
  const prefix = `${runDir}/`
  const strayIds = new Set<string>()
  const haproxies = findProcesses((argv) => argv[0]?.endsWith('haproxy') === true && argv.some((arg) => arg.startsWith(prefix)))
  for (const found of haproxies) {
    const id = poolIdsIn(found.argv.filter((arg) => arg.startsWith(prefix)).map((arg) => arg.slice(prefix.length).split('/')[0]))[0]
    if (id && !entries.includes(id)) strayIds.add(id)
  }
  const runEntries = [...entries, ...strayIds].flatMap((id) => {
    const report = inspectRunEntry(runDir, id, haproxies)
    if (report) return [report]
    const unrecorded = unrecordedHaproxies(poolPaths(runDir, id), haproxies).map(({pid, startTime}) => ({pid, startTime}))
    return unrecorded.length > 0
      ? [{id, files: [], master: {verdict: {state: 'not-ours', reason: 'gone'} as const}, configSha: null, appliedSha: null, lockHeld: false, inUse: [], unrecorded}]
      : []
  })

  const poolNamespaces = listNamespaces(POOL_NAMESPACE_PREFIX).flatMap((name) => {
    const id = poolIdFromNamespace(name)
    return id ? [{name, id, ours: aliasIs(vipHostLink(id), owner)}] : []
  })
  const labNamespaces = listNamespaces(LAB_NAMESPACE_PREFIX).map((name) => ({
    name,
    ours: aliasIs(`${LAB_LINK_PREFIX}${name.slice(LAB_NAMESPACE_PREFIX.length).replace('-', '')}`, owner),
  }))

  const plugs: Record<string, string[]> = {}
  // Each plan runs `ip` inside the namespace: a few at once, not one after another.
  await settleWithConcurrency(request.plugs ?? [], 8, async (spec) => {
    const id = poolIdFromNamespace(spec.namespace) ?? haPeerFromNamespace(spec.namespace)?.poolId
    if (!id) return
    try {
      plugs[id] = (await planVipPlug(spec)).changes.map((change) => change.detail)
    } catch (error) {
      plugs[id] = [`cannot inspect the plug: ${(error as Error).message}`]
    }
  })
  const haPeers: Record<string, {namespace: boolean; keepalivedRunning: boolean}> = {}
  for (const {poolId, role} of request.haPeers ?? []) {
    const status = haPeerStatus(runDir, poolId, role)
    haPeers[poolId] = {namespace: namespaceExists(status.namespace), keepalivedRunning: status.keepalivedRunning}
  }
  const bridges: Record<string, BridgeReport> = {}
  for (const wanted of request.bridges ?? []) {
    const link = inspectLink(wanted.name)
    const report: BridgeReport = {name: wanted.name, exists: link.exists, isBridge: link.isBridge, changes: []}
    if (wanted.managed) {
      try {
        report.changes = (await planBridge(wanted.name, {gatewayCidr: wanted.gatewayCidr, owner})).changes.map((change) => change.detail)
      } catch (error) {
        report.problem = (error as Error).message
      }
    }
    bridges[wanted.name] = report
  }

  return {
    owner,
    runEntries,
    poolNamespaces,
    haPeers,
    vipLinks: listLinks(VIP_LINK_PREFIX).map((name) => ({name, ours: aliasIs(name, owner)})),
    managedBridges: listLinks(MANAGED_BRIDGE_PREFIX).map((name) => ({name, ours: aliasIs(name, owner)})),
    labNamespaces,
    plugs,
    bridges,
  }
}
