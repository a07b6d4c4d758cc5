/**
 * Fuzzed worker messages (issue 6.3), shared by the in-process fuzz and the one through a
 * real serve-worker: Libra requests (every action, every UPDATE field valid or hostile) and
 * native requests (DEPLOY/RUNTIME/UNDEPLOY/STATS/DISCOVER around a controller's pool graph
 * with up to three fields deleted, replaced by hostile values, given a hostile part, or given
 * valid but hostile-looking values).
 */
import fc from 'fast-check'

import {canonicalAddress, isUsableHost, parseNetwork} from '../../src/domain/ip.js'
import {LBAAS_PROTOCOL_VERSION} from '../../src/agent/protocol.js'
import {
  hostileValue,
  INJECTIONS,
  input,
  validConnectionLimit,
  validCookieName,
  validDescription,
  validExpectedCodes,
  validHttpMethod,
  validName,
  validPort,
  validUrlPath,
  validWeight,
} from './hostile.js'

// ---- Libra ---------------------------------------------------------------------------

/** A Libra request; node addresses come from `addresses` (or are hostile). */
export function libraRequest(addresses: fc.Arbitrary<string>): fc.Arbitrary<Record<string, unknown>> {
  const nodeId = fc.oneof(fc.integer({min: 1, max: 1_000_000}), fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/))
  const node = input(
    {
      id: nodeId,
      address: fc.oneof(addresses, addresses.map((address) => ` ${address} `)),
      port: validPort,
      weight: validWeight,
      backup: fc.constantFrom<unknown>(true, false, 'TRUE', 'FALSE', 'true'),
      condition: fc.constantFrom('ENABLED', 'DISABLED'),
    },
    {optional: ['weight', 'backup', 'condition'], clean: 6},
  )
  const monitor = input(
    {
      type: fc.constantFrom('CONNECT', 'HTTP', 'http'),
      delay: fc.integer({min: 5, max: 60}),
      timeout: fc.integer({min: 1, max: 5}),
      attempts: fc.integer({min: 1, max: 10}),
      path: fc.oneof(validUrlPath, validUrlPath.map((path) => path.slice(1))),
    },
    {optional: ['path'], clean: 3},
  )
  const options = input(
    {
      client_timeout: fc.integer({min: 1, max: 600_000}),
      server_timeout: fc.integer({min: 1, max: 600_000}),
      connect_timeout: fc.integer({min: 1, max: 600_000}),
      connect_retries: fc.integer({min: 0, max: 100}),
    },
    {optional: ['client_timeout', 'server_timeout', 'connect_timeout', 'connect_retries'], clean: 3},
  )
  const loadBalancer = input(
    {
      id: fc.oneof(fc.integer({min: 1, max: 1_000_000}), fc.uuid()),
      name: validName,
      protocol: fc.constantFrom('HTTP', 'TCP', 'GALERA', 'http'),
      port: validPort,
      algorithm: fc.constantFrom('ROUND_ROBIN', 'LEAST_CONNECTIONS'),
      monitor,
      options,
      nodes: fc.array(node, {minLength: 1, maxLength: 4}),
    },
    {optional: ['id', 'name', 'port', 'algorithm', 'monitor', 'options'], clean: 3},
  )
  const action = fc.oneof(
    {weight: 8, arbitrary: fc.constantFrom('UPDATE', 'update')},
    {weight: 6, arbitrary: fc.constantFrom('SUSPEND', 'ENABLE', 'DELETE', 'DISCOVER', 'STATS', 'METRICS', 'DIAGNOSTICS', 'ARCHIVE', 'archive')},
    {weight: 1, arbitrary: hostileValue},
  )
  return fc
    .tuple(
      action,
      input(
        {
          loadBalancers: fc.oneof({weight: 3, arbitrary: fc.tuple(loadBalancer)}, {weight: 1, arbitrary: fc.tuple(loadBalancer, loadBalancer)}),
          hpcs_object_store_type: fc.constantFrom('swift', 'Swift'),
          hpcs_object_store_basepath: fc.constantFrom('lbaaslogs', 'a/b'),
          hpcs_object_store_endpoint: fc.constantFrom('http://127.0.0.1:9/v1/AUTH_x'),
          hpcs_object_store_token: fc.constantFrom('token'),
          extra: hostileValue,
        },
        {optional: ['hpcs_object_store_type', 'hpcs_object_store_basepath', 'hpcs_object_store_endpoint', 'hpcs_object_store_token', 'extra'], clean: 2},
      ),
      fc.oneof({weight: 6, arbitrary: fc.constant(true)}, {weight: 1, arbitrary: fc.constant(false)}),
    )
    .map(([verb, body, withAction]) => (withAction ? {hpcs_action: verb, ...body} : body))
}

// ---- native --------------------------------------------------------------------------

type Path = (string | number)[]

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Every path to a value inside `value` (objects and lists included). */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((item, index) => pathsOf(item, [...prefix, index]))]
  if (isPlainObject(value)) return [prefix, ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key]))]
  return [prefix]
}

/** Valid but hostile-looking replacements for the fields that reach the configuration or the state. */
const VALID_VARIANTS: Record<string, fc.Arbitrary<unknown>> = {
  url_path: validUrlPath,
  http_method: validHttpMethod,
  expected_codes: validExpectedCodes,
  cookie_name: validCookieName,
  name: validName,
  description: validDescription,
  status_description: fc.option(validDescription, {nil: null}),
  weight: validWeight,
  protocol_port: validPort,
  connection_limit: validConnectionLimit,
}

type Mutation = {path: Path; kind: 'delete'} | {path: Path; kind: 'set'; value: unknown} | {path: Path; kind: 'insert'; part: string; position: number}

function mutation(paths: Path[]): fc.Arbitrary<Mutation> {
  return fc.constantFrom(...paths).chain((path) => {
    const key = String(path[path.length - 1])
    const variant = VALID_VARIANTS[key]
    return fc.oneof(
      {weight: 1, arbitrary: fc.constant<Mutation>({path, kind: 'delete'})},
      {weight: 3, arbitrary: hostileValue.map((value): Mutation => ({path, kind: 'set', value}))},
      {
        weight: 3,
        arbitrary: fc.tuple(fc.constantFrom(...INJECTIONS), fc.nat()).map(([part, position]): Mutation => ({path, kind: 'insert', part, position})),
      },
      {weight: variant ? 4 : 0, arbitrary: (variant ?? fc.constant(null)).map((value): Mutation => ({path, kind: 'set', value}))},
    )
  })
}

function mutate(graph: Record<string, unknown>, mutations: Mutation[]): unknown {
  let root: unknown = structuredClone(graph)
  for (const change of mutations) {
    if (change.path.length === 0) {
      root = change.kind === 'set' ? change.value : undefined
      continue
    }
    let parent = root as any
    for (const key of change.path.slice(0, -1)) parent = isPlainObject(parent) || Array.isArray(parent) ? (parent as any)[key] : undefined
    if (!isPlainObject(parent) && !Array.isArray(parent)) continue
    const target = parent as any
    const last = change.path[change.path.length - 1]
    if (change.kind === 'delete') delete target[last]
    else if (change.kind === 'set') target[last] = change.value
    else {
      // A hostile part inside the value that was there (text or number).
      const current = target[last]
      if (typeof current !== 'string' && typeof current !== 'number') continue
      const text = String(current)
      const at = change.position % (text.length + 1)
      target[last] = `${text.slice(0, at)}${change.part}${text.slice(at)}`
    }
  }
  return root
}

export interface NativeBase {
  graph: Record<string, unknown>
  poolId: string
  memberIds: string[]
  /** Paths that may be mutated (default: all). */
  mutable?: (path: Path) => boolean
}

/** A native request around `base.graph`, with up to three mutations of the graph. */
export function nativeRequest(base: NativeBase): fc.Arbitrary<Record<string, unknown>> {
  const paths = pathsOf(base.graph).filter((path) => base.mutable?.(path) ?? true)
  const future = new Date(Date.now() + 24 * 3_600_000).toISOString()
  const past = new Date(Date.now() - 3_600_000).toISOString()
  return fc.record(
    {
      lbaas_action: fc.oneof(
        {weight: 8, arbitrary: fc.constantFrom('DEPLOY', 'DEPLOY', 'RUNTIME', 'UNDEPLOY', 'STATS', 'DISCOVER', 'deploy')},
        {weight: 1, arbitrary: hostileValue},
      ),
      lbaas_version: fc.oneof({weight: 8, arbitrary: fc.constant<unknown>(LBAAS_PROTOCOL_VERSION)}, {weight: 1, arbitrary: hostileValue}),
      pool_id: fc.oneof({weight: 6, arbitrary: fc.constant<unknown>(base.poolId)}, {weight: 1, arbitrary: fc.uuid()}, {weight: 2, arbitrary: hostileValue}),
      graph: fc.array(mutation(paths), {maxLength: 3}).map((mutations) => mutate(base.graph, mutations)),
      member_ids: fc.oneof(fc.constant<unknown>(base.memberIds), fc.constant<unknown>(base.memberIds.slice(0, 1)), hostileValue),
      expires_at: fc.oneof({weight: 6, arbitrary: fc.constant<unknown>(future)}, {weight: 1, arbitrary: fc.constant<unknown>(past)}, {weight: 1, arbitrary: hostileValue}),
    },
    {requiredKeys: ['lbaas_action', 'lbaas_version', 'graph']},
  )
}

// ---- safety --------------------------------------------------------------------------

/**
 * Rewrites every IP address inside `message` that is valid but outside `cidr` to
 * `fallback`: a fuzzed message sent to a real worker must never make HAProxy check or
 * connect to an address outside the test's own subnet.
 */
export function confineAddresses<T>(message: T, cidr: string, fallback: string): T {
  const network = parseNetwork(cidr)
  if ('error' in network) throw new Error(network.error)
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const parsed = canonicalAddress(value.trim())
      if (parsed && !(parsed.family === network.family && isUsableHost(network, parsed.address))) return fallback
      return value
    }
    if (Array.isArray(value)) return value.map(visit)
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item)]))
    return value
  }
  return visit(message) as T
}
