/**
 * The plan of `lbaas sync` (SPEC §4.5), pure: from what the state file wants and what the
 * host inventory (host/inventory.ts) reports, the steps that make the host match. No I/O;
 * sync.ts gives each step its action. Agent pools are not planned here (sync-agents.ts).
 */
import type {HostInventory, RunEntryReport} from '../host/inventory.js'
import {isStrayRunFile} from '../host/names.js'

export type SyncActionKind =
  | 'repair-bridge'
  | 'deploy'
  | 'undeploy'
  | 'settle'
  | 'start-lab-backend'
  | 'remove-orphan'
  | 'move'
  | 'problem'

/** What a step does, for sync.ts to bind to the host or a service. */
export type SyncOperation =
  | {type: 'ensure-subnet'; subnetId: string}
  | {type: 'apply-pool'; poolId: string}
  | {type: 'restore-device'}
  | {type: 'remove-files'; id: string; files: string[]}
  | {type: 'stop-unrecorded'; id: string}
  | {type: 'remove-entry'; id: string}
  | {type: 'delete-link'; name: string}
  | {type: 'delete-bridge'; name: string}
  | {type: 'remove-lab-namespace'; name: string}
  | {type: 'start-lab-backend'; name: string}
  /** Nothing sync can do; the object does not converge until the operator acts. */
  | {type: 'none'}

export interface SyncStep {
  kind: SyncActionKind
  target: string
  reason: string
  operation: SyncOperation
}

export interface WantedPool {
  id: string
  /** `pool NAME (ID)`. */
  target: string
  /** It has a live VIP: it must be served. */
  served: boolean
  /** SHA-256 of the configuration the state file renders to (served pools). */
  configSha: string | null
  /** `pool PENDING_UPDATE`, `member … PENDING_CREATE`, … */
  pending: string[]
  /** Set when this host runs a peer of the HA pool (SPEC §11): namespace `lbaas-<id>-<role>`, with keepalived. */
  haRole?: 'a' | 'b'
}

export interface WantedDevice {
  id: string
  target: string
  /** ACTIVE: its HAProxy must run. */
  served: boolean
  suspended: boolean
  /** null: the stored device cannot be rendered (restoring would fail the same way). */
  configSha: string | null
}

export interface WantedSubnet {
  id: string
  name: string
  bridge: string
  managed: boolean
}

export interface SyncWants {
  /** Pools this host serves (agent 'local'). */
  pools: WantedPool[]
  /** Every pool id of the state file, wherever it runs: never an orphan. */
  allPoolIds: ReadonlySet<string>
  /** VIP link names of every pool id of the state file (names.ts `vipHostLink`). */
  knownLinks: ReadonlySet<string>
  device?: WantedDevice
  subnets: WantedSubnet[]
  /** Namespaces of the lab backends the state file has. */
  labNamespaces: ReadonlySet<string>
  /** Lab backends that are not running. */
  labDown: readonly string[]
}

/** The whole plan: bridges first, then pools and the device, lab backends, orphans last. */
export function planSync(wants: SyncWants, host: HostInventory): SyncStep[] {
  const entries = new Map(host.runEntries.map((entry) => [entry.id, entry]))
  const namespaces = new Set(host.poolNamespaces.map((namespace) => namespace.id))
  return [
    ...planBridges(wants.subnets, host),
    ...wants.pools.flatMap((pool) => {
      const peer = pool.haRole ? host.haPeers[pool.id] : undefined
      const planned = planPool(pool, entries.get(pool.id), pool.haRole ? peer?.namespace === true : namespaces.has(pool.id), host.plugs[pool.id] ?? [])
      // An HA peer also needs its keepalived (it holds the VIP when this peer is MASTER).
      if (!pool.served || !peer?.namespace || peer.keepalivedRunning) return planned
      const deploy = planned.find((step) => step.kind === 'deploy')
      if (deploy) return planned.map((step) => (step === deploy ? {...step, reason: `${step.reason}; keepalived not running`} : step))
      return [{kind: 'deploy', target: pool.target, reason: 'keepalived not running', operation: {type: 'apply-pool', poolId: pool.id}} satisfies SyncStep, ...planned]
    }),
    ...(wants.device ? planDevice(wants.device, entries.get(wants.device.id)) : []),
    ...wants.labDown.map((name): SyncStep => ({kind: 'start-lab-backend', target: `lab backend ${name}`, reason: 'not running', operation: {type: 'start-lab-backend', name}})),
    ...planOrphans(wants, host),
  ]
}

export function planBridges(subnets: readonly WantedSubnet[], host: HostInventory): SyncStep[] {
  return subnets.flatMap((subnet): SyncStep[] => {
    const seen = host.bridges[subnet.bridge]
    const target = `subnet ${subnet.name}`
    if (!seen) return []
    if (!subnet.managed) {
      if (seen.exists && seen.isBridge) return []
      return [{kind: 'problem', target, reason: `bridge ${subnet.bridge} is missing; create it (lbaas never creates a bridge given with --bridge)`, operation: {type: 'none'}}]
    }
    if (seen.problem) return [{kind: 'problem', target, reason: seen.problem, operation: {type: 'none'}}]
    if (seen.changes.length === 0) return []
    return [{kind: 'repair-bridge', target, reason: seen.changes.join('; '), operation: {type: 'ensure-subnet', subnetId: subnet.id}}]
  })
}

/** Why the recorded master does not count as this pool's running HAProxy; [] when it does. */
export function masterProblems(entry: RunEntryReport | undefined): string[] {
  const verdict = entry?.master.verdict
  if (!entry || !verdict) return ['HAProxy not running']
  const problems: string[] = []
  if (verdict.state === 'detached') problems.push('HAProxy runs in a namespace that was deleted under it')
  else if (verdict.state === 'not-ours') {
    problems.push(
      verdict.reason === 'gone' || verdict.reason === 'zombie'
        ? 'HAProxy not running'
        : `HAProxy not running (recorded PID ${entry.master.pid} is another process now: ${verdict.reason})`,
    )
  }
  // Beside a running master they are a step of their own (planUnrecorded): a deploy leaves them.
  if (problems.length > 0 && entry.unrecorded.length > 0) problems.push(`HAProxy not started by this deploy runs its configuration (PID ${pidsOf(entry)})`)
  return problems
}

const pidsOf = (entry: RunEntryReport) => entry.unrecorded.map((found) => found.pid).join(', ')

/** HAProxy loading the entry's configuration beside its running, recorded master: stopped. */
function planUnrecorded(entry: RunEntryReport | undefined, target: string): SyncStep[] {
  if (!entry || entry.unrecorded.length === 0 || masterProblems(entry).length > 0) return []
  return [{kind: 'remove-orphan', target, reason: `HAProxy beside the recorded one runs its configuration (PID ${pidsOf(entry)})`, operation: {type: 'stop-unrecorded', id: entry.id}}]
}

function runsCurrent(entry: RunEntryReport | undefined, configSha: string | null): boolean {
  return configSha !== null && entry?.configSha === configSha && entry.appliedSha === configSha
}

export function planPool(pool: WantedPool, entry: RunEntryReport | undefined, namespace: boolean, plugSteps: readonly string[]): SyncStep[] {
  const {target} = pool
  const operation = {type: 'apply-pool', poolId: pool.id} as const
  const stale = pool.pending.map((text) => `stale ${text}`)
  if (pool.served) {
    const master = masterProblems(entry)
    const reasons = [
      ...(namespace ? plugSteps : ['namespace missing']),
      ...master,
      ...(master.length === 0 && !runsCurrent(entry, pool.configSha) ? ['running configuration differs from the state file'] : []),
      ...stale,
    ]
    const deploy: SyncStep[] = reasons.length > 0 ? [{kind: 'deploy', target, reason: reasons.join('; '), operation}] : []
    const beside = planUnrecorded(entry, target)
    return deploy.length + beside.length > 0 ? [...deploy, ...beside] : planStrayFiles(entry, target)
  }
  const leftovers = [...(namespace ? ['namespace'] : []), ...(entry ? ['run files'] : [])]
  if (leftovers.length > 0) return [{kind: 'undeploy', target, reason: `no VIP, but ${leftovers.join(' and ')} left on the host`, operation}]
  if (stale.length > 0) return [{kind: 'settle', target, reason: stale.join('; '), operation}]
  return []
}

/**
 * Files an interrupted deploy or HAProxy itself left in the entry of a converged pool
 * (names.ts `isStrayRunFile`). Not while a command holds the pool's lock, nor a temporary
 * named after a live process (a re-executing HAProxy master binds its socket so): then
 * they are work in progress.
 */
export function planStrayFiles(entry: RunEntryReport | undefined, target: string): SyncStep[] {
  const strays = entry?.files.filter((name) => isStrayRunFile(name) && !entry.inUse.includes(name)) ?? []
  if (!entry || strays.length === 0 || entry.lockHeld) return []
  return [{kind: 'remove-orphan', target, reason: `${strays.join(', ')} left by an interrupted deploy`, operation: {type: 'remove-files', id: entry.id, files: strays}}]
}

export function planDevice(device: WantedDevice, entry: RunEntryReport | undefined): SyncStep[] {
  return [...planDeviceProcess(device, entry), ...(device.served ? planUnrecorded(entry, device.target) : [])]
}

function planDeviceProcess(device: WantedDevice, entry: RunEntryReport | undefined): SyncStep[] {
  const running = masterProblems(entry).length === 0
  const operation = {type: 'restore-device'} as const
  const {target} = device
  if (running && device.served && device.configSha !== null && !runsCurrent(entry, device.configSha)) {
    return [{kind: 'deploy', target, reason: 'running configuration differs from the state file', operation}]
  }
  if (running === device.served && (device.served || !entry || device.suspended)) return planStrayFiles(entry, target)
  if (device.served) return [{kind: 'deploy', target, reason: masterProblems(entry).join('; '), operation}]
  return [{kind: 'undeploy', target, reason: running ? 'device is not ACTIVE but HAProxy runs' : 'device is not ACTIVE but its run files are left', operation}]
}

/** Things carrying this run dir's owner tag (or in its run dir) that no object of the state file owns. */
export function planOrphans(wants: SyncWants, host: HostInventory): SyncStep[] {
  const known = new Set([...wants.allPoolIds, ...(wants.device ? [wants.device.id] : [])])
  const steps: SyncStep[] = []
  const removed = new Set<string>()
  const removeEntry = (id: string, reason: string) => {
    if (known.has(id) || removed.has(id)) return
    removed.add(id)
    steps.push({kind: 'remove-orphan', target: `pool ${id}`, reason, operation: {type: 'remove-entry', id}})
  }
  for (const entry of host.runEntries) {
    removeEntry(entry.id, entry.files.length > 0 ? 'run-dir entry of a pool that is not in the state file' : `HAProxy (PID ${entry.unrecorded.map((found) => found.pid).join(', ')}) of a pool that is not in the state file`)
  }
  for (const namespace of host.poolNamespaces) {
    if (namespace.ours) removeEntry(namespace.id, `namespace ${namespace.name} of a pool that is not in the state file`)
  }
  for (const link of host.vipLinks) {
    if (link.ours && !wants.knownLinks.has(link.name)) steps.push({kind: 'remove-orphan', target: `link ${link.name}`, reason: 'VIP link of no pool', operation: {type: 'delete-link', name: link.name}})
  }
  const managed = new Set(wants.subnets.filter((subnet) => subnet.managed).map((subnet) => subnet.bridge))
  for (const bridge of host.managedBridges) {
    if (bridge.ours && !managed.has(bridge.name)) steps.push({kind: 'remove-orphan', target: `bridge ${bridge.name}`, reason: 'bridge of no subnet', operation: {type: 'delete-bridge', name: bridge.name}})
  }
  for (const namespace of host.labNamespaces) {
    if (namespace.ours && !wants.labNamespaces.has(namespace.name)) {
      steps.push({kind: 'remove-orphan', target: `lab namespace ${namespace.name}`, reason: 'lab backend that is not in the state file', operation: {type: 'remove-lab-namespace', name: namespace.name}})
    }
  }
  return steps
}
