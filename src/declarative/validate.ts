/**
 * A parsed apply file → DesiredFile, or every problem with its path. Two passes over the
 * same value: the JSON Schema (ajv: shapes, unknown keys, required keys) and the
 * validation the commands use (src/domain/validation.ts) on every value, so a file can
 * never hold what `lbaas pool create` would refuse. Checks against the state (references
 * to existing subnets, addresses in use) belong to the planner.
 */
import {Ajv2020} from 'ajv/dist/2020.js'

import {ValidationError} from '../domain/errors.js'
import * as rules from '../domain/validation.js'
import {isUsableHost} from '../domain/ip.js'
import {
  type CertSource,
  type DesiredCert,
  type DesiredFile,
  type DesiredMember,
  type DesiredMonitor,
  type DesiredPool,
  type DesiredSubnet,
  type DesiredVip,
  type Problem,
} from './file.js'
import {APPLY_FILE_SCHEMA} from './schema.js'

let compiled: ReturnType<Ajv2020['compile']> | undefined

function schemaCheck(value: unknown): Problem[] {
  compiled ??= new Ajv2020({allErrors: true, strict: false}).compile(APPLY_FILE_SCHEMA)
  if (compiled(value)) return []
  return (compiled.errors ?? []).map((error) => {
    const base = pathOf(error.instancePath)
    const params = error.params as {additionalProperty?: string; missingProperty?: string}
    if (error.keyword === 'additionalProperties') return {path: join(base, params.additionalProperty!), message: 'unknown key'}
    if (error.keyword === 'required') return {path: join(base, params.missingProperty!), message: 'required'}
    return {path: base || '(file)', message: error.message ?? 'invalid'}
  })
}

/** `/pools/1/members/0/weight` → `pools[1].members[0].weight` */
function pathOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : join(path, part)), '')
}

const join = (base: string, key: string): string => (base ? `${base}.${key}` : key)

type Record_ = Record<string, unknown>
const isRecord = (value: unknown): value is Record_ => value !== null && typeof value === 'object' && !Array.isArray(value)
const listAt = (value: unknown): unknown[] => (Array.isArray(value) ? value : [])

/** Collects problems; `check` runs one rule and keeps its message under the path. */
class Checker {
  readonly problems = new Map<string, string>()

  check<T>(path: string, rule: () => T): T | undefined {
    try {
      return rule()
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      if (!this.problems.has(path)) this.problems.set(path, messageWithoutField(error))
      return undefined
    }
  }

  add(path: string, message: string): void {
    if (!this.problems.has(path)) this.problems.set(path, message)
  }

  /** `rule(value)` when the key is present, `fallback` when it is not. */
  optional<T>(record: Record_, key: string, path: string, rule: (value: unknown) => T, fallback: T): T | undefined {
    if (record[key] === undefined) return fallback
    return this.check(join(path, key), () => rule(record[key]))
  }
}

function messageWithoutField(error: ValidationError): string {
  const prefix = `${error.field} `
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message
}

export function validateApplyFile(value: unknown, safeConnectionLimit: number): {file?: DesiredFile; problems: Problem[]} {
  const checker = new Checker()
  if (!isRecord(value)) return {problems: [{path: '(file)', message: 'must be a mapping with apiVersion, stack, subnets, monitors and pools'}]}
  const stack = checker.check('stack', () => rules.stackName(value.stack))
  const certs = listAt(value.certs).map((item, index) => certOf(checker, item, `certs[${index}]`))
  const subnets = listAt(value.subnets).map((item, index) => subnetOf(checker, item, `subnets[${index}]`))
  const monitors = listAt(value.monitors).map((item, index) => monitorOf(checker, item, `monitors[${index}]`))
  const pools = listAt(value.pools).map((item, index) => poolOf(checker, item, `pools[${index}]`, safeConnectionLimit))
  uniqueNames(checker, 'certs', certs.map((cert) => cert?.name))
  uniqueNames(checker, 'subnets', subnets.map((subnet) => subnet?.name))
  uniqueNames(checker, 'monitors', monitors.map((monitor) => monitor?.name))
  uniqueNames(checker, 'pools', pools.map((pool) => pool?.name))
  uniqueNames(checker, 'pools', pools.map((pool) => pool?.vip?.name), '.vip.name')
  uniqueNames(checker, 'pools', pools.map((pool) => pool?.vip?.address), '.vip.address')
  // Schema problems the value rules did not already explain (unknown keys, missing keys, types).
  for (const problem of schemaCheck(value)) checker.add(problem.path, problem.message)
  const problems = [...checker.problems].map(([path, message]) => ({path, message}))
  if (problems.length > 0 || stack === undefined) return {problems}
  return {
    file: {stack, certs: certs as DesiredCert[], subnets: subnets as DesiredSubnet[], monitors: monitors as DesiredMonitor[], pools: pools as DesiredPool[]},
    problems: [],
  }
}

/** Each name once: a repeat is reported at `${list}[i]${suffix}`. */
function uniqueNames(checker: Checker, list: string, names: (string | undefined)[], suffix = '.name'): void {
  const seen = new Map<string, number>()
  names.forEach((name, index) => {
    if (name === undefined) return
    const first = seen.get(name)
    if (first === undefined) seen.set(name, index)
    else checker.add(`${list}[${index}]${suffix}`, `${JSON.stringify(name)} is already used by ${list}[${first}]`)
  })
}

const FILE_KEYS = ['cert_file', 'key_file', 'chain_file'] as const
const PEM_KEYS = ['cert_pem', 'key_pem', 'chain_pem'] as const
const FINGERPRINT = /^[0-9a-f]{64}$/

/** Shape only: the material is read and checked (src/tls, as `cert create`) by the service. */
function certOf(checker: Checker, item: unknown, path: string): DesiredCert | undefined {
  if (!isRecord(item)) return undefined
  const name = checker.check(join(path, 'name'), () => rules.certificateName(item.name))
  const text = (key: string) => {
    const value = item[key]
    if (value === undefined) return undefined
    if (typeof value !== 'string' || value.length === 0) {
      checker.add(join(path, key), 'must be a non-empty string')
      return undefined
    }
    if (value.includes('\0')) {
      checker.add(join(path, key), 'must not contain a NUL byte')
      return undefined
    }
    return value
  }
  const files = FILE_KEYS.map(text)
  const pems = PEM_KEYS.map(text)
  const hasFiles = FILE_KEYS.some((key) => item[key] !== undefined)
  const hasPems = PEM_KEYS.some((key) => item[key] !== undefined)
  const fingerprint = item.fingerprint_sha256
  if (fingerprint !== undefined && (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint))) {
    checker.add(join(path, 'fingerprint_sha256'), 'must be a SHA-256 fingerprint as `cert show` prints it (64 hex digits)')
  }
  if (hasFiles && hasPems) checker.add(path, 'give either cert_file/key_file[/chain_file] or cert_pem/key_pem[/chain_pem], not both')
  if ((hasFiles || hasPems) && fingerprint !== undefined) checker.add(join(path, 'fingerprint_sha256'), 'goes only with a reference (a name alone); the material gives the fingerprint')
  let source: CertSource | undefined
  if (hasFiles && !hasPems) {
    if (item.cert_file === undefined) checker.add(join(path, 'cert_file'), 'required with key_file')
    if (item.key_file === undefined) checker.add(join(path, 'key_file'), 'required with cert_file')
    if (files[0] !== undefined && files[1] !== undefined) source = {kind: 'files', cert_file: files[0], key_file: files[1], ...(files[2] === undefined ? {} : {chain_file: files[2]})}
  } else if (hasPems && !hasFiles) {
    if (item.cert_pem === undefined) checker.add(join(path, 'cert_pem'), 'required with key_pem')
    if (item.key_pem === undefined) checker.add(join(path, 'key_pem'), 'required with cert_pem')
    if (pems[0] !== undefined && pems[1] !== undefined) source = {kind: 'inline', cert_pem: pems[0], key_pem: pems[1], ...(pems[2] === undefined ? {} : {chain_pem: pems[2]})}
  }
  if (name === undefined) return undefined
  return {name, ...(source ? {source} : {}), ...(typeof fingerprint === 'string' && !hasFiles && !hasPems ? {fingerprint_sha256: fingerprint} : {})}
}

function subnetOf(checker: Checker, item: unknown, path: string): DesiredSubnet | undefined {
  if (!isRecord(item)) return undefined
  const name = checker.check(join(path, 'name'), () => rules.subnetName(item.name))
  const network = checker.check(join(path, 'cidr'), () => rules.subnetCidr(item.cidr))
  const gateway = checker.optional(item, 'gateway_ip', path, (value) => rules.ipAddress('gateway_ip', value).address, undefined)
  if (network && gateway !== undefined && !isUsableHost(network, gateway)) {
    checker.add(join(path, 'gateway_ip'), `${gateway} is not a host address inside ${network.cidr}`)
  }
  const bridge = checker.optional(item, 'bridge', path, rules.bridgeName, undefined)
  if (name === undefined || network === undefined) return undefined
  return {name, cidr: network.cidr, ...(gateway === undefined ? {} : {gateway_ip: gateway}), ...(bridge === undefined ? {} : {bridge})}
}

function monitorOf(checker: Checker, item: unknown, path: string): DesiredMonitor | undefined {
  if (!isRecord(item)) return undefined
  const monitor = {
    name: checker.check(join(path, 'name'), () => rules.monitorName(item.name)),
    type: checker.check(join(path, 'type'), () => rules.monitorType(item.type)),
    delay: checker.check(join(path, 'delay'), () => rules.delay(item.delay)),
    timeout: checker.check(join(path, 'timeout'), () => rules.timeout(item.timeout)),
    max_retries: checker.check(join(path, 'max_retries'), () => rules.maxRetries(item.max_retries)),
    http_method: checker.optional(item, 'http_method', path, rules.httpMethod, 'GET'),
    url_path: checker.optional(item, 'url_path', path, rules.urlPath, '/'),
    expected_codes: checker.optional(item, 'expected_codes', path, rules.expectedCodes, '200'),
    admin_state_up: checker.optional(item, 'admin_state_up', path, (value) => rules.bool('admin_state_up', value), true),
  }
  if (monitor.timeout !== undefined && monitor.delay !== undefined) {
    checker.check(join(path, 'timeout'), () => rules.timeoutWithinDelay(monitor.timeout!, monitor.delay!))
  }
  return Object.values(monitor).includes(undefined) ? undefined : (monitor as DesiredMonitor)
}

function poolOf(checker: Checker, item: unknown, path: string, safeConnectionLimit: number): DesiredPool | undefined {
  if (!isRecord(item)) return undefined
  const protocol = checker.check(join(path, 'protocol'), () => rules.protocol(item.protocol))
  const subnet = checker.check(join(path, 'subnet'), () => rules.subnetName(item.subnet))
  const pool = {
    name: checker.check(join(path, 'name'), () => rules.displayName(item.name)),
    description: checker.optional(item, 'description', path, (value) => rules.freeText('description', value), ''),
    subnet,
    protocol,
    lb_method: checker.check(join(path, 'lb_method'), () => rules.lbMethod(item.lb_method)),
    admin_state_up: checker.optional(item, 'admin_state_up', path, (value) => rules.bool('admin_state_up', value), true),
  }
  const agent = checker.optional(item, 'agent', path, (value) => rules.freeText('agent', value, 255), undefined)
  const monitors = listAt(item.monitors).map((name, index) => checker.check(`${path}.monitors[${index}]`, () => rules.monitorName(name)))
  uniqueNames(checker, `${path}.monitors`, monitors, '')
  const members = listAt(item.members).map((member, index) => memberOf(checker, member, `${path}.members[${index}]`))
  const endpoints = members.map((member) => member && `${member.address} port ${member.protocol_port}`)
  uniqueNames(checker, `${path}.members`, endpoints, '.address')
  const vip = isRecord(item.vip) ? vipOf(checker, item.vip, join(path, 'vip'), {protocol, subnet}, safeConnectionLimit) : null
  if (Object.values(pool).includes(undefined) || monitors.includes(undefined) || members.includes(undefined) || vip === undefined) return undefined
  return {...(pool as Omit<DesiredPool, 'agent' | 'monitors' | 'members' | 'vip'>), ...(agent === undefined ? {} : {agent}), monitors: monitors as string[], members: members as DesiredMember[], vip}
}

function memberOf(checker: Checker, item: unknown, path: string): DesiredMember | undefined {
  if (!isRecord(item)) return undefined
  const member = {
    address: checker.check(join(path, 'address'), () => rules.ipAddress('address', item.address).address),
    protocol_port: checker.check(join(path, 'protocol_port'), () => rules.protocolPort(item.protocol_port)),
    weight: checker.optional(item, 'weight', path, rules.weight, 1),
    admin_state_up: checker.optional(item, 'admin_state_up', path, (value) => rules.bool('admin_state_up', value), true),
  }
  return Object.values(member).includes(undefined) ? undefined : (member as DesiredMember)
}

function vipOf(
  checker: Checker,
  item: Record_,
  path: string,
  pool: {protocol?: DesiredPool['protocol']; subnet?: string},
  safeConnectionLimit: number,
): DesiredVip | undefined {
  const protocol = item.protocol === undefined ? pool.protocol : checker.check(join(path, 'protocol'), () => rules.vipProtocol(item.protocol))
  if (protocol === 'TERMINATED_HTTPS' && pool.protocol !== undefined && pool.protocol !== 'HTTP') {
    checker.add(join(path, 'protocol'), `TERMINATED_HTTPS needs an HTTP pool; the pool is ${pool.protocol}`)
  } else if (protocol !== undefined && protocol !== 'TERMINATED_HTTPS' && pool.protocol !== undefined && protocol !== pool.protocol) {
    checker.add(join(path, 'protocol'), `${protocol} does not match the pool's protocol ${pool.protocol}`)
  }
  const tls = tlsOf(checker, item, path, protocol === 'TERMINATED_HTTPS')
  const vip = {
    name: checker.check(join(path, 'name'), () => rules.displayName(item.name)),
    description: checker.optional(item, 'description', path, (value) => rules.freeText('description', value), ''),
    subnet: item.subnet === undefined ? pool.subnet : checker.check(join(path, 'subnet'), () => rules.subnetName(item.subnet)),
    protocol,
    protocol_port: checker.check(join(path, 'protocol_port'), () => rules.protocolPort(item.protocol_port)),
    connection_limit: checker.optional(item, 'connection_limit', path, (value) => rules.connectionLimit(value, safeConnectionLimit), -1),
    session_persistence: checker.optional(item, 'session_persistence', path, rules.sessionPersistence, null),
    syslog: checker.optional(item, 'syslog', path, rules.syslogAddress, null),
    admin_state_up: checker.optional(item, 'admin_state_up', path, (value) => rules.bool('admin_state_up', value), true),
  }
  const address = checker.optional(item, 'address', path, (value) => rules.ipAddress('address', value).address, undefined)
  if (Object.values(vip).includes(undefined) || tls === undefined) return undefined
  return {...(vip as Omit<DesiredVip, 'address' | keyof typeof tls>), ...tls, ...(address === undefined ? {} : {address})}
}

/** default_cert, sni_certs, redirect_http: TERMINATED_HTTPS only, and then a default certificate is required. */
function tlsOf(checker: Checker, item: Record_, path: string, terminated: boolean): Pick<DesiredVip, 'default_cert' | 'sni_certs' | 'redirect_http'> | undefined {
  if (!terminated) {
    for (const key of ['default_cert', 'sni_certs', 'redirect_http']) {
      if (item[key] !== undefined && item[key] !== null) checker.add(join(path, key), 'only a TERMINATED_HTTPS VIP takes certificates')
    }
    return {default_cert: null, sni_certs: [], redirect_http: false}
  }
  if (item.default_cert === undefined || item.default_cert === null) {
    checker.add(join(path, 'default_cert'), 'required for a TERMINATED_HTTPS VIP (a certificate name)')
    return undefined
  }
  const defaultCert = checker.check(join(path, 'default_cert'), () => rules.certificateName(item.default_cert))
  const sni = listAt(item.sni_certs).map((name, index) => checker.check(`${path}.sni_certs[${index}]`, () => rules.certificateName(name)))
  uniqueNames(checker, `${path}.sni_certs`, sni, '')
  const redirect = checker.optional(item, 'redirect_http', path, (value) => rules.bool('redirect_http', value), false)
  if (defaultCert === undefined || sni.includes(undefined) || redirect === undefined) return undefined
  return {default_cert: defaultCert, sni_certs: sni as string[], redirect_http: redirect}
}
