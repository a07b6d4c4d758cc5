/**
 * Libra UPDATE: checks a request in the order of Libra's controller (libra.md §2.2: the
 * first problem found wins) and turns it into a DeviceSpec, a plain description of the
 * device that device-view.ts renders. Pure: no I/O.
 *
 * Kept from Libra: the `badRequest` messages, the FAIL messages of the driver, the
 * write-backs into the echoed request (monitor `path` default, node `condition`).
 * Beaten: every value that reaches haproxy.cfg is checked here first (addresses must be IP
 * literals, ports and timeouts integers in range, paths visible ASCII), `backup` may be a
 * JSON boolean, TCP and GALERA cannot both claim the `tcp` proxies, two load balancers
 * cannot share a port, and every FAIL carries `hpcs_error`.
 */
import {canonicalAddress} from '../../domain/ip.js'
import {isObject, LibraBadRequest, NODE_DISABLED, NODE_ENABLED, pythonText, type LibraRequest} from './messages.js'

export const LIBRA_PROTOCOLS = ['HTTP', 'TCP', 'GALERA'] as const
export type LibraProtocol = (typeof LIBRA_PROTOCOLS)[number]
export type LibraAlgorithm = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS'
export type LibraMonitorType = 'CONNECT' | 'HTTP'

export interface DeviceNode {
  /** Libra's node id as text; the server is named `id-<id>`. */
  id: string
  /** Canonical IP address. */
  address: string
  port: number
  weight: number
  backup: boolean
}

export interface DeviceMonitor {
  type: LibraMonitorType
  /** Seconds. */
  delay: number
  timeout: number
  attempts: number
  path: string
}

export interface DeviceLoadBalancer {
  protocol: LibraProtocol
  port: number
  algorithm: LibraAlgorithm
  monitor: DeviceMonitor | null
  /** Milliseconds (Libra's `options`). */
  timeouts: {client: number; server: number; connect: number}
  retries: number
  nodes: DeviceNode[]
}

export interface DeviceSpec {
  loadBalancers: DeviceLoadBalancer[]
}

/** The spec of the last accepted UPDATE, as the device row stores it (JSON); null before the first. */
export function storedSpec(row: {config: string | null}): DeviceSpec | null {
  return row.config === null ? null : (JSON.parse(row.config) as DeviceSpec)
}

/** `http` or `tcp`: the section names and the METRICS protocol (GALERA runs as tcp). */
export function proxyFamily(protocol: LibraProtocol): 'http' | 'tcp' {
  return protocol === 'HTTP' ? 'http' : 'tcp'
}

export type UpdateOutcome =
  | {kind: 'ok'; spec: DeviceSpec; echo: LibraRequest}
  | {kind: 'badRequest'; message: string}
  | {kind: 'fail'; message: string; echo: LibraRequest}

const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_RETRIES = 3
const MAX_TIMEOUT_MS = 86_400_000
const MAX_WEIGHT = 256
const NODE_ID = /^[A-Za-z0-9_.:-]{1,64}$/
const MONITOR_PATH = /^\/[\x21-\x7e]{0,254}$/

class UpdateFailure extends Error {}

/** Python's `int()` on what a JSON caller sends: integers and decimal strings, nothing else. */
export function libraInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  if (typeof value === 'string' && /^\s*[+-]?\d{1,15}\s*$/.test(value)) return Number(value.trim())
  return undefined
}

function requireInt(field: string, value: unknown, min: number, max: number): number {
  const parsed = libraInt(value)
  if (parsed === undefined) throw new UpdateFailure(`Non-integer '${field}' value: '${pythonText(value)}'`)
  if (parsed < min || parsed > max) throw new UpdateFailure(`'${field}' value ${parsed} is outside ${min}-${max}`)
  return parsed
}

/**
 * Checks and converts one UPDATE request. The echo is a deep copy of the request with
 * Libra's write-backs; the request itself is not changed.
 */
export function parseUpdate(request: LibraRequest): UpdateOutcome {
  const echo = structuredClone(request)
  try {
    return {kind: 'ok', spec: buildSpec(echo), echo}
  } catch (error) {
    if (error instanceof LibraBadRequest) return {kind: 'badRequest', message: error.message}
    if (error instanceof UpdateFailure) return {kind: 'fail', message: error.message, echo}
    throw error
  }
}

function buildSpec(echo: LibraRequest): DeviceSpec {
  if (!('loadBalancers' in echo)) throw new LibraBadRequest("Missing 'loadBalancers' element")
  const list = echo.loadBalancers
  if (isObject(list) || typeof list === 'string') {
    // Python iterates the keys (or characters), none of which holds 'nodes'.
    if (Object.keys(list).length > 0) throw new LibraBadRequest("Missing 'nodes' element")
    return {loadBalancers: []}
  }
  if (!Array.isArray(list)) throw new UpdateFailure(`'loadBalancers' must be a list, not ${pythonText(list)}`)
  const loadBalancers: DeviceLoadBalancer[] = []
  for (const entry of list) loadBalancers.push(loadBalancerOf(entry, loadBalancers))
  for (const lb of loadBalancers) {
    if (lb.nodes.length === 0) throw new UpdateFailure(`No nodes given for the ${lb.protocol} load balancer`)
  }
  return {loadBalancers}
}

function loadBalancerOf(lb: unknown, earlier: readonly DeviceLoadBalancer[]): DeviceLoadBalancer {
  if (!isObject(lb)) throw new UpdateFailure(`Each load balancer must be an object, not ${pythonText(lb)}`)
  if (!('nodes' in lb)) throw new LibraBadRequest("Missing 'nodes' element")
  if (!('protocol' in lb)) throw new LibraBadRequest("Missing required 'protocol' value.")

  const protocol = protocolOf(lb.protocol)
  const port = portOf(protocol, lb.port)
  for (const other of earlier) {
    if (other.protocol === protocol) throw new UpdateFailure(`Duplicate protocol: ${protocol.toLowerCase()}`)
    if (proxyFamily(other.protocol) === proxyFamily(protocol)) {
      throw new UpdateFailure(
        `Protocol '${protocol.toLowerCase()}' conflicts with '${other.protocol.toLowerCase()}': a device has at most one TCP or GALERA load balancer`,
      )
    }
    if (other.port === port) throw new UpdateFailure(`Port ${port} is already used by the ${other.protocol} load balancer`)
  }
  const algorithm = algorithmOf(lb.algorithm)
  const monitor = 'monitor' in lb ? monitorOf(lb.monitor) : null
  const {timeouts, retries} = optionsOf(lb.options)

  if (!Array.isArray(lb.nodes)) throw new UpdateFailure(`'nodes' must be a list, not ${pythonText(lb.nodes)}`)
  const nodes: DeviceNode[] = []
  for (const node of lb.nodes) nodes.push(nodeOf(protocol, node, nodes))
  return {protocol, port, algorithm, monitor, timeouts, retries, nodes}
}

function protocolOf(value: unknown): LibraProtocol {
  const text = pythonText(value)
  const protocol = LIBRA_PROTOCOLS.find((candidate) => candidate === text.toUpperCase())
  if (typeof value !== 'string' || !protocol) throw new UpdateFailure(`Unsupported protocol: ${text.toLowerCase()}`)
  return protocol
}

function portOf(protocol: LibraProtocol, value: unknown): number {
  if (value === undefined || value === null) {
    if (protocol === 'HTTP') return 80
    throw new UpdateFailure('Port is required for this protocol.')
  }
  const port = libraInt(value)
  if (port === undefined || port < 1 || port > 65_535) throw new UpdateFailure(`Invalid port: ${pythonText(value)}`)
  return port
}

function algorithmOf(value: unknown): LibraAlgorithm {
  if (value === undefined || value === null) return 'ROUND_ROBIN'
  const text = typeof value === 'string' ? value.toUpperCase() : ''
  if (text === 'ROUND_ROBIN' || text === 'LEAST_CONNECTIONS') return text
  // Libra printed the protocol here; the algorithm is what was wrong.
  throw new UpdateFailure(`Invalid algorithm: ${pythonText(value)}`)
}

function monitorOf(monitor: unknown): DeviceMonitor {
  if (!isObject(monitor)) throw new UpdateFailure(`'monitor' must be an object, not ${pythonText(monitor)}`)
  for (const field of ['type', 'delay', 'timeout', 'attempts']) {
    if (!(field in monitor)) throw new LibraBadRequest(`Missing monitor value '${field}'`)
  }
  // Libra writes the default path back into the echoed request.
  if (!('path' in monitor)) monitor.path = '/'

  const type = typeof monitor.type === 'string' ? monitor.type.toUpperCase() : ''
  if (type !== 'CONNECT' && type !== 'HTTP') throw new UpdateFailure(`Invalid monitor type: ${pythonText(monitor.type)}`)
  const delay = requireInt('delay', monitor.delay, 1, 86_400)
  const timeout = requireInt('timeout', monitor.timeout, 1, 86_400)
  const attempts = requireInt('attempts', monitor.attempts, 1, 10)
  if (timeout > delay) throw new UpdateFailure(`Monitor timeout (${timeout}) cannot exceed the delay (${delay})`)
  const given = monitor.path === null || monitor.path === undefined ? '' : monitor.path
  if (typeof given !== 'string') throw new UpdateFailure(`Invalid monitor path: ${pythonText(given)}`)
  let path = given === '' ? '/' : given
  if (!path.startsWith('/')) path = `/${path}`
  if (!MONITOR_PATH.test(path)) {
    throw new UpdateFailure(`Invalid monitor path: ${JSON.stringify(path)} (only visible ASCII characters, at most 255)`)
  }
  return {type, delay, timeout, attempts, path}
}

function optionsOf(options: unknown): {timeouts: DeviceLoadBalancer['timeouts']; retries: number} {
  const given = isObject(options) ? options : {}
  try {
    if (options !== undefined && options !== null && !isObject(options)) {
      throw new UpdateFailure(`'options' must be an object, not ${pythonText(options)}`)
    }
    const ms = (field: string) =>
      given[field] === undefined || given[field] === null ? DEFAULT_TIMEOUT_MS : requireInt(field, given[field], 1, MAX_TIMEOUT_MS)
    return {
      timeouts: {client: ms('client_timeout'), server: ms('server_timeout'), connect: ms('connect_timeout')},
      retries:
        given.connect_retries === undefined || given.connect_retries === null
          ? DEFAULT_RETRIES
          : requireInt('connect_retries', given.connect_retries, 0, 100),
    }
  } catch (error) {
    throw new UpdateFailure(`Failed to set timeout values: ${(error as Error).message}`)
  }
}

function nodeOf(protocol: LibraProtocol, node: unknown, earlier: readonly DeviceNode[]): DeviceNode {
  if (!isObject(node)) throw new UpdateFailure(`Each node must be an object, not ${pythonText(node)}`)
  if (!('port' in node)) throw new LibraBadRequest("Missing node 'port'")
  if (!('address' in node)) throw new LibraBadRequest("Missing node 'address'")
  if (!('id' in node) || node.id === '' || node.id === null) throw new LibraBadRequest("Missing node 'id'")
  try {
    const parsed = serverOf(protocol, node, earlier)
    node.condition = NODE_ENABLED
    return parsed
  } catch (error) {
    node.condition = NODE_DISABLED
    throw new UpdateFailure(`Failure adding server ${pythonText(node.id)}: ${(error as Error).message}`)
  }
}

function serverOf(protocol: LibraProtocol, node: Record<string, unknown>, earlier: readonly DeviceNode[]): DeviceNode {
  const id = typeof node.id === 'number' && Number.isSafeInteger(node.id) ? String(node.id) : node.id
  if (typeof id !== 'string' || !NODE_ID.test(id)) {
    throw new UpdateFailure(`Invalid node 'id' value: '${pythonText(node.id)}' (1-64 of A-Z a-z 0-9 _ . : -)`)
  }
  if (earlier.some((other) => other.id === id)) throw new UpdateFailure(`Duplicate node 'id' value: '${id}'`)
  const address = typeof node.address === 'string' ? canonicalAddress(node.address.trim()) : undefined
  if (!address) throw new UpdateFailure(`Invalid node 'address' value: '${pythonText(node.address)}' (an IP address is required)`)
  const port = libraInt(node.port)
  if (port === undefined || port < 1 || port > 65_535) throw new UpdateFailure(`Invalid node 'port' value: '${pythonText(node.port)}'`)

  let weight = 1
  if (node.weight !== undefined && node.weight !== null) {
    const parsed = libraInt(node.weight)
    if (parsed === undefined) throw new UpdateFailure(`Non-integer 'weight' value: '${pythonText(node.weight)}'`)
    if (parsed > MAX_WEIGHT) throw new UpdateFailure(`Server 'weight' ${parsed} exceeds max of ${MAX_WEIGHT}`)
    if (parsed < 0) throw new UpdateFailure(`Server 'weight' ${parsed} is below min of 0`)
    weight = parsed
  }
  const backup = backupOf(node.backup)
  if (protocol === 'GALERA' && !backup && earlier.some((other) => !other.backup)) {
    throw new UpdateFailure('Galera protocol does not accept more than one non-backup node')
  }
  return {id, address: address.address, port, weight, backup}
}

/** Libra took only the string "true" (any case); the API sends "TRUE"/"FALSE". Booleans work here too. */
function backupOf(value: unknown): boolean {
  if (value === undefined || value === null) return false
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') return value.toLowerCase() === 'true'
  throw new UpdateFailure(`Invalid 'backup' value: '${pythonText(value)}'`)
}

/** Marks every node of the echoed request DISABLED (a failed deploy; Libra only did the last LB). */
export function disableAllNodes(echo: LibraRequest): void {
  const list = echo.loadBalancers
  if (!Array.isArray(list)) return
  for (const lb of list) {
    if (!isObject(lb) || !Array.isArray(lb.nodes)) continue
    for (const node of lb.nodes) if (isObject(node)) node.condition = NODE_DISABLED
  }
}
