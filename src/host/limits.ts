/**
 * Host limits and prerequisites, for HAProxy's `global maxconn`, the VIP connection limit
 * (SPEC §1) and `lbaas doctor`.
 */
import {existsSync, readFileSync} from 'node:fs'
import {readFdLimit, safeMaxConn} from './fd-limit.js'
import {randomBytes} from 'node:crypto'
import {ipBatch} from './ip-batch.js'
import {TEST_PREFIX} from './names.js'
import {deleteNamespace} from './netns.js'
import {run} from './run.js'

export {MAX_SAFE_MAXCONN, parseFdLimit, readFdLimit, safeMaxConn, type FdLimit} from './fd-limit.js'

export interface PrerequisiteCheck {
  name: string
  status: 'ok' | 'warning' | 'error'
  detail: string
  /** What to do about a warning or an error. */
  fix?: string
}

const CAP_NET_ADMIN = 12
const CAP_SYS_ADMIN = 21

/** Effective capabilities of this process (from /proc/self/status CapEff). */
export function effectiveCapabilities(): bigint {
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match ? BigInt(`0x${match[1]}`) : 0n
}

function hasCapability(caps: bigint, bit: number): boolean {
  return (caps & (1n << BigInt(bit))) !== 0n
}

async function checkPrivileges(): Promise<PrerequisiteCheck> {
  const caps = effectiveCapabilities()
  const missing = [
    [CAP_NET_ADMIN, 'CAP_NET_ADMIN'],
    [CAP_SYS_ADMIN, 'CAP_SYS_ADMIN'],
  ].filter(([bit]) => !hasCapability(caps, bit as number))
  if (missing.length === 0) return {name: 'privileges', status: 'ok', detail: 'CAP_NET_ADMIN and CAP_SYS_ADMIN'}
  return {
    name: 'privileges',
    status: 'error',
    detail: `missing ${missing.map(([, name]) => name).join(' and ')} (namespaces, links and bridges need them)`,
    fix: 'run lbaas as root',
  }
}

async function checkNamespaces(): Promise<PrerequisiteCheck> {
  if (!existsSync('/proc/self/ns/net')) {
    return {name: 'network namespaces', status: 'error', detail: 'the kernel has no network namespaces', fix: 'use a kernel with CONFIG_NET_NS=y'}
  }
  try {
    await run(['ip', 'netns', 'list'])
    return {name: 'network namespaces', status: 'ok', detail: '/proc/self/ns/net present, `ip netns` works'}
  } catch (error) {
    return {name: 'network namespaces', status: 'error', detail: (error as Error).message, fix: 'apt-get install iproute2'}
  }
}

/** Creates a veth pair and a bridge inside a throw-away `lbt` namespace, then deletes it. */
async function checkLinkTypes(): Promise<PrerequisiteCheck> {
  const namespace = `${TEST_PREFIX}doctor-${randomBytes(4).toString('hex')}`
  try {
    await ipBatch([`netns add ${namespace}`])
    await ipBatch(['link add lbtv0 type veth peer name lbtv1', 'link add lbtb0 type bridge', 'link set lbtv0 master lbtb0'], {namespace})
    return {name: 'veth and bridge', status: 'ok', detail: 'created a veth pair and a bridge in a scratch namespace'}
  } catch (error) {
    return {name: 'veth and bridge', status: 'error', detail: (error as Error).message, fix: 'use a kernel with CONFIG_VETH and CONFIG_BRIDGE, and run as root'}
  } finally {
    await deleteNamespace(namespace).catch(() => undefined)
  }
}

/** What running a program showed: it started (whatever its exit code) and its first line of output, or why it did not. */
export type ProgramProbe = {present: true; firstLine: string | undefined} | {present: false; error: string}

/** Runs `argv` once to see whether the program is installed; never throws. */
export async function probeProgram(argv: readonly string[]): Promise<ProgramProbe> {
  try {
    const result = await run(argv, {allowFailure: true})
    return {present: true, firstLine: `${result.stdout}\n${result.stderr}`.split('\n').find((line) => line.trim())?.trim()}
  } catch (error) {
    return {present: false, error: (error as Error).message}
  }
}

/** Parses `haproxy -v` output: "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - …". */
export function parseHaproxyVersion(text: string): string | undefined {
  return /HA-?Proxy version (\S+)/.exec(text)?.[1]
}

/**
 * Whether `haproxy -vv` reports an OpenSSL build. Every configuration lbaas renders sets
 * `httpclient.ssl.verify` (and TERMINATED_HTTPS VIPs need TLS), keywords an HAProxy built
 * without OpenSSL refuses.
 */
export function haproxyHasOpenssl(text: string): boolean {
  return /Feature list :.*\+OPENSSL\b/.test(text) || /^Built with OpenSSL version/m.test(text)
}

async function checkHaproxy(): Promise<PrerequisiteCheck> {
  try {
    const {stdout} = await run(['haproxy', '-vv'])
    const version = parseHaproxyVersion(stdout)
    if (!version) return {name: 'haproxy', status: 'warning', detail: `unrecognised version output: ${stdout.split('\n')[0]}`}
    const [major, minor] = version.split('.').map(Number)
    if (major < 2 || (major === 2 && minor < 6)) {
      return {name: 'haproxy', status: 'error', detail: `HAProxy ${version} is older than 2.6`, fix: 'install HAProxy 2.6 or newer'}
    }
    if (!haproxyHasOpenssl(stdout)) {
      return {name: 'haproxy', status: 'error', detail: `HAProxy ${version} is built without OpenSSL: every configuration lbaas renders uses SSL keywords`, fix: 'install an HAProxy built with OpenSSL (Debian\'s haproxy package is)'}
    }
    return {name: 'haproxy', status: 'ok', detail: `HAProxy ${version}`}
  } catch (error) {
    return {name: 'haproxy', status: 'error', detail: (error as Error).message, fix: 'apt-get install haproxy'}
  }
}

async function checkArping(): Promise<PrerequisiteCheck> {
  try {
    const {stdout} = await run(['arping', '-V'])
    return {name: 'arping', status: 'ok', detail: stdout.split('\n')[0]}
  } catch (error) {
    return {
      name: 'arping',
      status: 'warning',
      detail: `${(error as Error).message}; VIPs are plugged without a gratuitous ARP`,
      fix: 'apt-get install iputils-arping',
    }
  }
}

function checkFileDescriptors(): PrerequisiteCheck {
  const limit = readFdLimit()
  const maxconn = safeMaxConn(limit.hard)
  const hard = limit.hard === Infinity ? 'unlimited' : String(limit.hard)
  if (maxconn < 100) {
    return {
      name: 'file descriptors',
      status: 'error',
      detail: `hard limit ${hard} leaves HAProxy a maxconn of ${maxconn}`,
      fix: 'raise the open-files hard limit (ulimit -Hn) of the shell or service that runs lbaas',
    }
  }
  return {name: 'file descriptors', status: 'ok', detail: `hard limit ${hard}: safe HAProxy maxconn ${maxconn}`}
}

/**
 * What `lbaas doctor` checks on this host: privileges, network namespaces, veth and bridge
 * creation (a real probe in a scratch `lbt` namespace, removed at once), HAProxy and its
 * version, arping, and the file-descriptor limit. Never throws; each problem is a check
 * with status `error` or `warning` and a fix.
 */
export async function checkKernelFeatures(): Promise<PrerequisiteCheck[]> {
  const checks = [await checkPrivileges(), await checkNamespaces()]
  const canProbeLinks = checks.every((check) => check.status === 'ok')
  checks.push(
    canProbeLinks
      ? await checkLinkTypes()
      : {name: 'veth and bridge', status: 'error', detail: 'not probed: needs root and network namespaces'},
  )
  checks.push(await checkHaproxy(), await checkArping(), checkFileDescriptors())
  return checks
}
