/**
 * Links of the root namespace: managed bridges and the root-side ends of veths.
 *
 * Inspection reads sysfs (/sys/class/net/NAME: ifindex, flags, master, bridge/), which
 * describes the root namespace this process runs in, without starting a process. Changes
 * go through `ip -batch`. Only links with one of this tool's prefixes are created, changed
 * or deleted; an operator's own bridge (`subnet create --bridge`) is only inspected and
 * has veths attached to it.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {existsSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {basename} from 'node:path'
import {InternalError, RuntimeFailure} from '../domain/errors.js'
import {canonicalAddress, parseNetwork, type Family} from '../domain/ip.js'
import type {Subnet} from '../domain/types.js'
import {ipBatch, ipJsonBatch} from './ip-batch.js'
import {assertInterfaceName, assertOwnedLink, assertOwnedPrefix} from './names.js'

const SYS_NET = '/sys/class/net'
const IFF_UP = 0x1

export interface LinkInfo {
  name: string
  exists: boolean
  ifindex?: number
  /** For a veth: the ifindex of its peer (in the peer's namespace). Equal to ifindex otherwise. */
  peerIfindex?: number
  isBridge: boolean
  /** The bridge this link is a port of. */
  master?: string
  /** Administratively up (IFF_UP). */
  up: boolean
  /** The link's alias (`ip link set NAME alias …`): lbaas writes its owner tag there. */
  alias?: string
}

function readNumber(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim()
    const value = Number(text)
    return Number.isSafeInteger(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** What the root namespace knows about link `name`; `exists: false` when there is none. */
export function inspectLink(name: string): LinkInfo {
  assertInterfaceName(name)
  const dir = `${SYS_NET}/${name}`
  const ifindex = readNumber(`${dir}/ifindex`)
  if (ifindex === undefined) return {name, exists: false, isBridge: false, up: false}
  let master: string | undefined
  try {
    master = basename(readlinkSync(`${dir}/master`))
  } catch {
    master = undefined
  }
  const flags = readNumber(`${dir}/flags`) ?? 0
  let alias: string | undefined
  try {
    alias = readFileSync(`${dir}/ifalias`, 'utf8').trim() || undefined
  } catch {
    alias = undefined
  }
  return {
    name,
    exists: true,
    ifindex,
    peerIfindex: readNumber(`${dir}/iflink`),
    isBridge: existsSync(`${dir}/bridge`),
    master,
    up: (flags & IFF_UP) !== 0,
    alias,
  }
}

export function linkExists(name: string): boolean {
  return existsSync(`${SYS_NET}/${assertInterfaceName(name)}`)
}

/** Root-namespace links whose name starts with `prefix` (which must itself start with one of ours), sorted. */
export function listLinks(prefix: string): string[] {
  assertOwnedPrefix(prefix, 'link')
  return readdirSync(SYS_NET)
    .filter((name) => name.startsWith(prefix))
    .sort()
}


/**
 * Waits (polling sysfs) until link `name` is gone from the root namespace; true when it went
 * within `timeoutMs`. After `ip netns del` the root-side peer of a veth disappears
 * 4–36 ms later (probe.md §2).
 */
export async function waitForLinkGone(name: string, timeoutMs = 1_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (linkExists(name)) {
    if (performance.now() >= deadline) return false
    await sleep(5)
  }
  return true
}

/** Deletes a root-namespace link of ours (a veth takes its peer with it). Idempotent. */
export async function deleteLink(name: string): Promise<boolean> {
  assertOwnedLink(name)
  if (!linkExists(name)) return false
  try {
    await ipBatch([`link del ${name}`])
  } catch (error) {
    if (linkExists(name)) throw error
  }
  return true
}

export interface BridgeOptions {
  /** Address with prefix the bridge holds in the root namespace, e.g. `198.18.0.1/24`. */
  gatewayCidr?: string
  /** Owner tag written as the bridge's alias (names.ts `ownerTag`), so `sync` knows it is ours. */
  owner?: string
}

export interface LinkChange {
  kind: 'bridge-created' | 'bridge-up' | 'gateway-address'
  detail: string
}

interface AddressEntry {
  family?: string
  local?: string
  prefixlen?: number
  scope?: string
  tentative?: boolean
  dadfailed?: boolean
}

interface LinkEntry {
  ifname?: string
  flags?: string[]
  addr_info?: AddressEntry[]
  link_index?: number
}

function parseCidr(cidr: string): {address: string; prefix: number; family: Family} {
  const [text, prefixText] = cidr.split('/')
  const parsed = canonicalAddress(text ?? '')
  const prefix = Number(prefixText)
  const bits = parsed?.family === 6 ? 128 : 32
  if (!parsed || !/^\d{1,3}$/.test(prefixText ?? '') || prefix > bits) {
    throw new InternalError(`${JSON.stringify(cidr)} is not an address with a prefix length`)
  }
  return {address: parsed.address, prefix, family: parsed.family}
}

/** `addr add` line; IPv6 addresses skip duplicate address detection so they are usable at once. */
export function addAddressLine(address: string, prefix: number, family: Family, device: string): string {
  return `addr add ${address}/${prefix} dev ${device}${family === 6 ? ' nodad' : ''}`
}

/** True when an address entry is usable now (IPv6: not tentative, DAD not failed). */
export function addressUsable(entry: AddressEntry): boolean {
  return !entry.tentative && !entry.dadfailed
}

/**
 * What `ensureBridge` would change, without changing anything (for `sync --dry-run`):
 * the `ip -batch` lines and a description of each change.
 */
export async function planBridge(name: string, options: BridgeOptions = {}): Promise<{lines: string[]; changes: LinkChange[]}> {
  assertOwnedLink(name)
  const gateway = options.gatewayCidr === undefined ? undefined : parseCidr(options.gatewayCidr)
  const info = inspectLink(name)
  const lines: string[] = []
  const changes: LinkChange[] = []
  if (!info.exists) {
    lines.push(`link add ${name} up type bridge`)
    changes.push({kind: 'bridge-created', detail: `bridge ${name} created`})
    if (gateway) {
      lines.push(addAddressLine(gateway.address, gateway.prefix, gateway.family, name))
      changes.push({kind: 'gateway-address', detail: `${gateway.address}/${gateway.prefix} added to ${name}`})
    }
  } else {
    if (!info.isBridge) {
      throw new RuntimeFailure('link_conflict', `${name} exists but is not a bridge`, `delete it with \`ip link del ${name}\` if it is a leftover`)
    }
    if (!info.up) {
      lines.push(`link set ${name} up`)
      changes.push({kind: 'bridge-up', detail: `bridge ${name} set up`})
    }
    if (gateway) {
      const [links] = (await ipJsonBatch([`addr show dev ${name}`])) as [LinkEntry[]]
      const addresses = links[0]?.addr_info ?? []
      const present = addresses.find((entry) => entry.local !== undefined && canonicalAddress(entry.local)?.address === gateway.address)
      if (!present || present.prefixlen !== gateway.prefix || !addressUsable(present)) {
        if (present) lines.push(`addr del ${gateway.address}/${present.prefixlen} dev ${name}`)
        lines.push(addAddressLine(gateway.address, gateway.prefix, gateway.family, name))
        changes.push({kind: 'gateway-address', detail: `${gateway.address}/${gateway.prefix} added to ${name}`})
      }
    }
  }
  // The owner tag is bookkeeping, not a change worth reporting.
  if (options.owner !== undefined && info.alias !== options.owner) lines.push(`link set ${name} alias ${options.owner}`)
  return {lines, changes}
}

/** What a managed subnet's bridge holds: its gateway with the subnet's prefix. Throws InternalError for a CIDR that does not parse. */
export function bridgeGatewayCidr(subnet: Subnet): string {
  const network = parseNetwork(subnet.cidr)
  if ('error' in network) throw new InternalError(`subnet ${subnet.id}: ${network.error}`)
  return `${subnet.gateway_ip}/${network.prefix}`
}

/**
 * Makes a managed bridge exist, be up, hold `gatewayCidr` (IPv6 with `nodad`, so it is
 * never tentative) and carry the owner tag. Idempotent and repairing; returns what it
 * changed (empty when nothing). Other addresses on the bridge are left alone. Throws
 * RuntimeFailure `link_conflict` when `name` exists and is not a bridge,
 * ExternalCommandError when `ip` fails.
 */
export async function ensureBridge(name: string, options: BridgeOptions = {}): Promise<LinkChange[]> {
  const {lines, changes} = await planBridge(name, options)
  if (lines.length > 0) await ipBatch(lines)
  return changes
}

/**
 * Deletes a managed bridge. Idempotent: false when it did not exist. Veths attached to it
 * stay, detached. Throws RuntimeFailure `link_conflict` when `name` is not a bridge.
 */
export async function deleteBridge(name: string): Promise<boolean> {
  assertOwnedLink(name)
  const info = inspectLink(name)
  if (!info.exists) return false
  if (!info.isBridge) throw new RuntimeFailure('link_conflict', `${name} is not a bridge; not deleting it`)
  return deleteLink(name)
}

export type {AddressEntry, LinkEntry}
