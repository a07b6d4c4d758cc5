/**
 * Plugging a namespace into a bridge (SPEC §4.1, neutron-lbaas.md §4.2): a veth pair whose
 * root-side end is a port of the bridge and whose other end, created directly inside the
 * namespace, holds one address and the namespace's default route.
 *
 * Contract of `plugVip` / `plugInterface`: idempotent and repairing. It observes what
 * exists, plans the missing steps (`planPlug`, pure), and runs them as at most three
 * `ip -batch` processes. A second call on a healthy plug runs one read-only `ip` and
 * changes nothing. It repairs a missing namespace, veth, bridge port, link state,
 * address (other global addresses on the interface are removed, as neutron's init_l3 did)
 * and default route, and reports each change. Throws RuntimeFailure `bridge_missing` when
 * the bridge does not exist, ExternalCommandError when `ip` fails. The gratuitous ARP is
 * best effort: its failure is a warning, never an error.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {InternalError, RuntimeFailure} from '../domain/errors.js'
import {canonicalAddress, parseNetwork, type Family} from '../domain/ip.js'
import type {Subnet} from '../domain/types.js'
import {ipBatch, ipJsonBatch, isFileExists} from './ip-batch.js'
import {addAddressLine, addressUsable, deleteLink, inspectLink, waitForLinkGone, type AddressEntry, type LinkEntry, type LinkInfo} from './links.js'
import {assertInterfaceName, assertOwnedLink, assertOwnedNamespace, namespaceFor, ownerTag, VIP_INTERFACE, vipHostLink} from './names.js'
import {deleteNamespace, namespaceExists} from './netns.js'
import {readProcessStat, blockedSignals} from './proc.js'
import {startCommand} from './run.js'

export interface PlugSpec {
  /** Namespace to plug (created when missing). */
  namespace: string
  /** Root-side end of the veth; becomes a port of `bridge`. */
  hostLink: string
  /** Existing bridge in the root namespace. */
  bridge: string
  /** Canonical address the namespace end holds. */
  address: string
  prefixLength: number
  /** Default route of the namespace; none when null or absent. */
  gateway?: string | null
  family: Family
  /** Owner tag written as the host link's alias (names.ts `ownerTag`), so `sync` knows it is ours. */
  owner?: string
  /** Addresses someone else manages on the interface and the plug must leave alone (an HA peer's VIP, held by keepalived while MASTER). */
  foreignAddresses?: readonly string[]
}

/** Which namespace, through which host link, holds which address of the subnet. */
export interface PlugPlacement {
  namespace: string
  hostLink: string
  address: string
  foreignAddresses?: readonly string[]
}

/**
 * The plug of a namespace into `subnet`'s bridge: the one place its prefix, family, gateway
 * and owner tag are derived, for a pool's VIP, an HA peer and the Libra device alike.
 * Throws InternalError for a subnet whose CIDR does not parse (the state file validated it).
 */
export function subnetPlugSpec(runDir: string, subnet: Subnet, placement: PlugPlacement): PlugSpec {
  const network = parseNetwork(subnet.cidr)
  if ('error' in network) throw new InternalError(`subnet ${subnet.id}: ${network.error}`)
  const {namespace, hostLink, address, foreignAddresses} = placement
  return {
    namespace,
    hostLink,
    bridge: subnet.bridge,
    address,
    prefixLength: network.prefix,
    gateway: subnet.gateway_ip,
    family: network.family,
    owner: ownerTag(runDir),
    ...(foreignAddresses ? {foreignAddresses} : {}),
  }
}

/** The VIP plug of the run-dir entry `id` (a pool, or the Libra device): namespace `lbaas-<id>`, host link `lbv…`. */
export function vipPlugSpec(runDir: string, id: string, subnet: Subnet, address: string): PlugSpec {
  return subnetPlugSpec(runDir, subnet, {namespace: namespaceFor(id), hostLink: vipHostLink(id), address})
}

export interface InterfaceSpec extends PlugSpec {
  /** Name of the namespace end of the veth. */
  innerLink: string
}

export type PlugChangeKind =
  | 'namespace'
  | 'stale-link'
  | 'veth'
  | 'bridge-port'
  | 'host-up'
  | 'loopback'
  | 'stale-address'
  | 'address'
  | 'link-up'
  | 'route'

export interface PlugChange {
  kind: PlugChangeKind
  detail: string
}

export interface InnerLinkState {
  /** ifindex of the veth peer (in the root namespace). */
  peerIfindex?: number
  up: boolean
  addresses: AddressEntry[]
}

export interface DefaultRoute {
  family: Family
  gateway?: string
  dev?: string
}

/** What exists before a plug: the input of `planPlug`. */
export interface PlugObservation {
  namespaceExists: boolean
  host: LinkInfo
  /** Present when the namespace exists. */
  inside?: {
    loopbackUp: boolean
    inner?: InnerLinkState
    defaultRoutes: DefaultRoute[]
  }
}

export interface PlugPlan {
  /** `ip -n NS` lines run before the root batch (removing an unpaired namespace end). */
  beforeRoot: string[]
  /** `ip` lines for the root namespace. */
  root: string[]
  /** `ip -n NS` lines. */
  inside: string[]
  changes: PlugChange[]
  /** The address was (re)added: IPv4 neighbours may cache an old MAC for it. */
  announce: boolean
}

export interface PlugResult {
  changes: PlugChange[]
  gratuitousArp: 'sent' | 'failed' | 'not-needed'
  warnings: string[]
}

function sameAddress(a: string | undefined, b: string): boolean {
  return a !== undefined && canonicalAddress(a)?.address === b
}

function defaultDestination(family: Family): string {
  return family === 4 ? '0.0.0.0/0' : '::/0'
}

/** The steps that bring `seen` to `spec`. Pure. */
export function planPlug(spec: InterfaceSpec, seen: PlugObservation): PlugPlan {
  const {namespace, hostLink, innerLink, bridge} = spec
  const plan: PlugPlan = {beforeRoot: [], root: [], inside: [], changes: [], announce: false}
  const change = (kind: PlugChangeKind, detail: string) => plan.changes.push({kind, detail})

  if (!seen.namespaceExists) {
    plan.root.push(`netns add ${namespace}`)
    change('namespace', `namespace ${namespace} created`)
  }
  const inner = seen.inside?.inner
  const paired = inner !== undefined && seen.host.exists && inner.peerIfindex === seen.host.ifindex
  if (!paired) {
    if (inner) {
      plan.beforeRoot.push(`link del ${innerLink}`)
      change('stale-link', `${innerLink} in ${namespace} was not the peer of ${hostLink}; replaced`)
    }
    if (seen.host.exists) {
      plan.root.push(`link del ${hostLink}`)
      change('stale-link', `${hostLink} was not the peer of ${innerLink} in ${namespace}; replaced`)
    }
    plan.root.push(`link add ${hostLink} up master ${bridge} type veth peer name ${innerLink} netns ${namespace}`)
    if (spec.owner !== undefined) plan.root.push(`link set ${hostLink} alias ${spec.owner}`)
    change('veth', `veth ${hostLink} (port of ${bridge}) ↔ ${innerLink} in ${namespace} created`)
  } else {
    if (spec.owner !== undefined && seen.host.alias !== spec.owner) plan.root.push(`link set ${hostLink} alias ${spec.owner}`)
    if (seen.host.master !== bridge) {
      plan.root.push(`link set ${hostLink} master ${bridge}`)
      change('bridge-port', `${hostLink} attached to bridge ${bridge}${seen.host.master ? ` (was on ${seen.host.master})` : ''}`)
    }
    if (!seen.host.up) {
      plan.root.push(`link set ${hostLink} up`)
      change('host-up', `${hostLink} set up`)
    }
  }

  if (!seen.inside?.loopbackUp) {
    plan.inside.push('link set lo up')
    if (seen.namespaceExists) change('loopback', `lo in ${namespace} set up`)
  }
  const addresses = paired ? inner.addresses : []
  let addressesChanged = false
  for (const entry of addresses) {
    if (entry.local === undefined || entry.scope === 'link' || entry.scope === 'host') continue
    const wanted = sameAddress(entry.local, spec.address) && entry.prefixlen === spec.prefixLength && addressUsable(entry)
    if (wanted) continue
    if (spec.foreignAddresses?.some((address) => sameAddress(entry.local, address))) continue
    plan.inside.push(`addr del ${entry.local}/${entry.prefixlen} dev ${innerLink}`)
    change('stale-address', `${entry.local}/${entry.prefixlen} removed from ${innerLink} in ${namespace}`)
    addressesChanged = true
  }
  const hasAddress = addresses.some(
    (entry) => sameAddress(entry.local, spec.address) && entry.prefixlen === spec.prefixLength && addressUsable(entry),
  )
  if (!hasAddress) {
    plan.inside.push(addAddressLine(spec.address, spec.prefixLength, spec.family, innerLink))
    change('address', `${spec.address}/${spec.prefixLength} added to ${innerLink} in ${namespace}`)
    addressesChanged = true
    plan.announce = spec.family === 4
  }
  const innerUp = paired && inner.up
  if (!innerUp) {
    plan.inside.push(`link set ${innerLink} up`)
    if (paired) change('link-up', `${innerLink} in ${namespace} set up`)
  }
  if (spec.gateway) {
    const gateway = spec.gateway
    const route = paired ? seen.inside?.defaultRoutes.find((candidate) => candidate.family === spec.family) : undefined
    const routeRight = route !== undefined && sameAddress(route.gateway, gateway) && route.dev === innerLink
    // Deleting an address or downing the link makes the kernel drop IPv4 routes through it.
    if (!routeRight || addressesChanged || !innerUp) {
      plan.inside.push(`route replace ${defaultDestination(spec.family)} via ${gateway} dev ${innerLink}`)
      if (!routeRight) change('route', `default route via ${gateway} set in ${namespace}`)
    }
  }
  return plan
}

function hasFlag(entry: {flags?: string[]}, flag: string): boolean {
  return entry.flags?.includes(flag) ?? false
}

interface RouteEntry {
  dst?: string
  gateway?: string
  dev?: string
  table?: string
  type?: string
}

/** Reads the state `planPlug` needs: sysfs for the root side, one `ip -n NS -j -batch` inside. */
export async function observePlug(spec: InterfaceSpec): Promise<PlugObservation> {
  const exists = namespaceExists(spec.namespace)
  let inside: PlugObservation['inside']
  if (exists) {
    const [links, routes] = (await ipJsonBatch(['addr show', 'route show table all'], {namespace: spec.namespace})) as [
      LinkEntry[],
      RouteEntry[],
    ]
    const loopback = links.find((link) => link.ifname === 'lo')
    const innerEntry = links.find((link) => link.ifname === spec.innerLink)
    inside = {
      loopbackUp: loopback !== undefined && hasFlag(loopback, 'UP'),
      inner: innerEntry && {
        peerIfindex: innerEntry.link_index,
        up: hasFlag(innerEntry, 'UP'),
        addresses: innerEntry.addr_info ?? [],
      },
      defaultRoutes: routes
        .filter((route) => route.dst === 'default' && (route.table ?? 'main') === 'main' && (route.type ?? 'unicast') === 'unicast')
        .flatMap((route) => {
          const family = route.gateway === undefined ? undefined : canonicalAddress(route.gateway)?.family
          return family === undefined ? [] : [{family, gateway: route.gateway, dev: route.dev}]
        }),
    }
  }
  let host = inspectLink(spec.hostLink)
  if (host.exists && !inside?.inner) {
    // Most likely the peer of a namespace deleted a moment ago, still being destroyed.
    await waitForLinkGone(spec.hostLink, RECREATE_WINDOW_MS)
    host = inspectLink(spec.hostLink)
  }
  return {namespaceExists: exists, host, inside}
}

/** How long a just-deleted veth name may stay taken before we delete it ourselves. */
const RECREATE_WINDOW_MS = 1_000


function checkSpec(spec: InterfaceSpec): void {
  assertOwnedNamespace(spec.namespace)
  assertOwnedLink(spec.hostLink)
  assertInterfaceName(spec.innerLink)
  assertInterfaceName(spec.bridge)
  const address = canonicalAddress(spec.address)
  const bits = spec.family === 4 ? 32 : 128
  const gateway = spec.gateway ? canonicalAddress(spec.gateway) : undefined
  if (
    !address ||
    address.address !== spec.address ||
    address.family !== spec.family ||
    !Number.isInteger(spec.prefixLength) ||
    spec.prefixLength < 1 ||
    spec.prefixLength > bits ||
    (spec.gateway && gateway?.family !== spec.family)
  ) {
    throw new InternalError(`bad plug spec ${JSON.stringify(spec)}`)
  }
}

/** Observes and plans without changing anything (for `sync --dry-run`). */
export async function planInterfacePlug(spec: InterfaceSpec): Promise<PlugPlan> {
  checkSpec(spec)
  return planPlug(spec, await observePlug(spec))
}

/** Plugs `spec.namespace` into `spec.bridge` through `spec.innerLink`; see the module contract. */
export async function plugInterface(spec: InterfaceSpec): Promise<PlugResult> {
  checkSpec(spec)
  const bridge = inspectLink(spec.bridge)
  if (!bridge.exists || !bridge.isBridge) {
    throw new RuntimeFailure(
      'bridge_missing',
      `bridge ${spec.bridge} does not exist${bridge.exists ? ' (a link with that name is not a bridge)' : ''}; cannot plug ${spec.namespace}`,
      'run `lbaas sync` to re-create managed bridges, or create the bridge given with --bridge',
    )
  }
  const started = performance.now()
  let createdNamespace = false
  for (let attempt = 1; ; attempt++) {
    const plan = planPlug(spec, await observePlug(spec))
    try {
      if (plan.beforeRoot.length > 0) await ipBatch(plan.beforeRoot, {namespace: spec.namespace})
      if (plan.root.length > 0) await ipBatch(plan.root)
      if (plan.inside.length > 0) await ipBatch(plan.inside, {namespace: spec.namespace})
    } catch (error) {
      createdNamespace ||= plan.root[0]?.startsWith('netns add') === true && namespaceExists(spec.namespace)
      // The root-side name of a veth whose namespace was just deleted stays taken for a few ms.
      if (isFileExists(error) && /link add/.test((error as Error).message) && performance.now() - started < RECREATE_WINDOW_MS) {
        await sleep(Math.min(10 * attempt, 50))
        continue
      }
      throw error
    }
    const changes = plan.changes
    if (createdNamespace && !changes.some((entry) => entry.kind === 'namespace')) {
      changes.unshift({kind: 'namespace', detail: `namespace ${spec.namespace} created`})
    }
    const warnings: string[] = []
    let gratuitousArp: PlugResult['gratuitousArp'] = 'not-needed'
    if (plan.announce) {
      const announced = await sendGratuitousArp(spec.namespace, spec.innerLink, spec.address)
      gratuitousArp = announced.sent ? 'sent' : 'failed'
      if (!announced.sent) warnings.push(`gratuitous ARP for ${spec.address} not sent: ${announced.detail}`)
    }
    return {changes, gratuitousArp, warnings}
  }
}

/** The VIP plug of a pool namespace: `plugInterface` with the interface `vip0`. */
export function plugVip(spec: PlugSpec): Promise<PlugResult> {
  return plugInterface({...spec, innerLink: VIP_INTERFACE})
}

export function planVipPlug(spec: PlugSpec): Promise<PlugPlan> {
  return planInterfacePlug({...spec, innerLink: VIP_INTERFACE})
}

/**
 * Removes a plug by deleting the namespace; the kernel destroys its veth with it. Idempotent;
 * returns whether the namespace existed. Stop HAProxy first, or the namespace lives on while
 * it runs.
 *
 * With `hostLink`, also makes sure the veth is gone: a namespace whose last process is gone
 * can still be held for a minute or two by orphaned TCP sockets (FIN_WAIT/TIME_WAIT of the
 * connections HAProxy had), and until then its veth stays on the bridge with the VIP
 * address on it, answering ARP for an address that may already be reused. When the host end
 * outlives the usual 4–36 ms, it is deleted directly, which takes its peer along.
 */
export async function unplugNamespace(namespace: string, hostLink?: string): Promise<boolean> {
  if (hostLink !== undefined) assertOwnedLink(hostLink)
  const existed = await deleteNamespace(namespace)
  if (hostLink !== undefined && !(await waitForLinkGone(hostLink, LINGER_MS))) await deleteLink(hostLink)
  return existed
}

/** How long the root-side end of a deleted namespace's veth normally takes to disappear, with margin. */
const LINGER_MS = 100

const SIGINT = 2
const SIGTERM = 15
const ARPING_READY_MS = 1_000

/**
 * Sends one gratuitous ARP (`arping -U -c 1`) from inside the namespace, without waiting
 * the second arping spends listening for replies that never come to an unsolicited ARP.
 *
 * arping blocks SIGINT/SIGTERM and reads them through a signalfd, then sends its first
 * packet and polls. So once /proc shows those signals blocked, a SIGTERM makes it send (if
 * it had not yet) and exit cleanly, printing "Sent 1 probes". It is a child of this process
 * and is awaited, so it is reaped at once and never left behind as a zombie or an orphan.
 * Costs about one `ip netns exec` (~10 ms) instead of ~1 s.
 */
export async function sendGratuitousArp(namespace: string, device: string, address: string): Promise<{sent: boolean; detail: string}> {
  let running
  try {
    running = await startCommand(['arping', '-U', '-c', '1', '-I', device, address], {netns: namespace, timeoutMs: 3_000})
  } catch (error) {
    return {sent: false, detail: (error as Error).message}
  }
  const pid = running.pid
  let exited = false
  void running.finished.then(
    () => (exited = true),
    () => (exited = true),
  )
  const deadline = performance.now() + ARPING_READY_MS
  while (pid !== undefined && !exited && performance.now() < deadline) {
    const blocked = blockedSignals(pid)
    if (blocked?.has(SIGTERM) && blocked.has(SIGINT) && readProcessStat(pid)?.comm === 'arping') {
      running.kill('SIGTERM')
      break
    }
    await sleep(1)
  }
  if (!exited && performance.now() >= deadline) running.kill('SIGKILL')
  try {
    const result = await running.finished
    if (/Sent [1-9]\d* probe/.test(result.stdout)) return {sent: true, detail: ''}
    return {sent: false, detail: (result.stderr || result.stdout || `exit ${result.exitCode ?? result.signal}`).trim()}
  } catch (error) {
    return {sent: false, detail: (error as Error).message}
  }
}
