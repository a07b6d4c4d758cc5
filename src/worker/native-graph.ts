/**
 * The pool graph a controller sends in DEPLOY/RUNTIME, checked field by field with the
 * rules of SPEC §1 before anything is stored or rendered: the agent trusts the controller
 * no more than the CLI trusts its flags. Throws ValidationError (exit 2 on the controller).
 */
import {ValidationError} from '../domain/errors.js'
import {
  PROVISIONING_STATUSES,
  type Association,
  type CertificateBundle,
  type Member,
  type MemberOperatingStatus,
  type Monitor,
  type Pool,
  type PoolGraph,
  type PoolOperatingStatus,
  type ProvisioningStatus,
  type Subnet,
  type Vip,
} from '../domain/types.js'
import {
  bool,
  bridgeName,
  connectionLimit,
  delay,
  expectedCodes,
  freeText,
  httpMethod,
  integer,
  ipAddress,
  lbMethod,
  maxRetries,
  monitorType,
  protocol,
  protocolPort,
  sessionPersistence,
  subnetName,
  syslogAddress,
  timeout,
  timeoutWithinDelay,
  urlPath,
  UUID_PATTERN,
  vipProtocol,
  weight,
} from '../domain/validation.js'
import {managedBridgeFor} from '../host/names.js'
import {checkBundle} from '../tls/certificate.js'
import {subnetNetwork} from '../service/subnets.js'

const POOL_OPERATING: readonly PoolOperatingStatus[] = ['ONLINE', 'DEGRADED', 'OFFLINE', 'NO_MONITOR', 'ERROR']
const MEMBER_OPERATING: readonly MemberOperatingStatus[] = ['ONLINE', 'OFFLINE', 'DRAINING', 'NO_MONITOR', 'ERROR']

function record(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(field, `${field} must be an object`)
  return value as Record<string, unknown>
}

function list(field: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `${field} must be a list`)
  return value
}

function id(field: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID_PATTERN.test(value)) throw new ValidationError(field, `${field} must be a UUID`)
  return value.toLowerCase()
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  const match = allowed.find((candidate) => candidate === value)
  if (!match) throw new ValidationError(field, `${field} must be one of ${allowed.join(', ')}`)
  return match
}

const status = (field: string, value: unknown): ProvisioningStatus => oneOf(field, value, PROVISIONING_STATUSES)

function description(field: string, value: unknown): string | null {
  return value === null || value === undefined ? null : freeText(field, value, 2_000)
}

function subnetOf(field: string, value: unknown): Subnet {
  const raw = record(field, value)
  const subnetId = id(`${field}.id`, raw.id)
  const network = subnetNetwork(raw.cidr)
  const gateway = ipAddress('gateway_ip', raw.gateway_ip).address
  const managed = bool('managed', raw.managed)
  const bridge = managed ? managedBridgeFor(subnetId) : bridgeName(raw.bridge)
  if (managed && raw.bridge !== bridge) throw new ValidationError('bridge', `a managed subnet's bridge is ${bridge}`)
  return {id: subnetId, name: subnetName(raw.name), cidr: network.cidr, gateway_ip: gateway, bridge, managed}
}

function poolOf(value: unknown): Pool {
  const raw = record('pool', value)
  return {
    id: id('pool.id', raw.id),
    name: freeText('name', raw.name),
    description: freeText('description', raw.description ?? ''),
    subnet_id: id('pool.subnet_id', raw.subnet_id),
    protocol: protocol(raw.protocol),
    lb_method: lbMethod(raw.lb_method),
    admin_state_up: bool('admin_state_up', raw.admin_state_up),
    status: status('pool.status', raw.status),
    status_description: description('status_description', raw.status_description),
    operating_status: oneOf('operating_status', raw.operating_status, POOL_OPERATING),
    vip_id: raw.vip_id === null || raw.vip_id === undefined ? null : id('vip_id', raw.vip_id),
    members: [],
    health_monitors: [],
    // On the agent the pool runs here.
    agent: 'local',
  }
}

function memberOf(poolId: string, value: unknown): Member {
  const raw = record('member', value)
  if (id('member.pool_id', raw.pool_id) !== poolId) throw new ValidationError('member', 'a member of another pool was sent')
  return {
    id: id('member.id', raw.id),
    pool_id: poolId,
    address: ipAddress('address', raw.address).address,
    protocol_port: protocolPort(raw.protocol_port),
    weight: weight(raw.weight),
    admin_state_up: bool('admin_state_up', raw.admin_state_up),
    status: status('member.status', raw.status),
    status_description: description('status_description', raw.status_description),
    operating_status: oneOf('operating_status', raw.operating_status, MEMBER_OPERATING),
  }
}

function monitorOf(value: unknown): Monitor {
  const raw = record('monitor', value)
  const monitor: Monitor = {
    id: id('monitor.id', raw.id),
    // Names are the controller's business; an agent keeps none (no clash between controllers).
    name: null,
    type: monitorType(raw.type),
    delay: delay(raw.delay),
    timeout: timeout(raw.timeout),
    max_retries: maxRetries(raw.max_retries),
    http_method: httpMethod(raw.http_method),
    url_path: urlPath(raw.url_path),
    expected_codes: expectedCodes(raw.expected_codes),
    admin_state_up: bool('admin_state_up', raw.admin_state_up),
    pools: [],
  }
  timeoutWithinDelay(monitor.timeout, monitor.delay)
  return monitor
}

function associationOf(poolId: string, monitorIds: ReadonlySet<string>, value: unknown): Association {
  const raw = record('association', value)
  if (id('association.pool_id', raw.pool_id) !== poolId) throw new ValidationError('association', 'an association of another pool was sent')
  const monitorId = id('association.monitor_id', raw.monitor_id)
  if (!monitorIds.has(monitorId)) throw new ValidationError('association', `association with monitor ${monitorId}, which was not sent`)
  return {
    pool_id: poolId,
    monitor_id: monitorId,
    status: status('association.status', raw.status),
    status_description: description('status_description', raw.status_description),
    position: integer('position', raw.position, 0, Number.MAX_SAFE_INTEGER),
  }
}

function vipOf(poolId: string, value: unknown, safeConnectionLimit: number): Vip {
  const raw = record('vip', value)
  if (id('vip.pool_id', raw.pool_id) !== poolId) throw new ValidationError('vip', 'the VIP of another pool was sent')
  return {
    id: id('vip.id', raw.id),
    name: freeText('name', raw.name),
    description: freeText('description', raw.description ?? ''),
    pool_id: poolId,
    subnet_id: id('vip.subnet_id', raw.subnet_id),
    address: ipAddress('address', raw.address).address,
    protocol: vipProtocol(raw.protocol),
    protocol_port: protocolPort(raw.protocol_port),
    connection_limit: raw.connection_limit === -1 ? -1 : connectionLimit(raw.connection_limit, safeConnectionLimit),
    session_persistence: sessionPersistence(raw.session_persistence ?? null),
    default_cert: raw.default_cert === null || raw.default_cert === undefined ? null : id('vip.default_cert', raw.default_cert),
    sni_certs: list('vip.sni_certs', raw.sni_certs ?? []).map((certId) => id('vip.sni_certs', certId)),
    redirect_http: bool('redirect_http', raw.redirect_http ?? false),
    // Absent from older controllers' DEPLOY: no syslog copy.
    syslog: syslogAddress(raw.syslog ?? null),
    admin_state_up: bool('admin_state_up', raw.admin_state_up),
    status: status('vip.status', raw.status),
    status_description: description('status_description', raw.status_description),
  }
}

/**
 * A certificate sent with DEPLOY: checked again here as `cert create` checks it (an agent
 * trusts the controller no more than the CLI trusts a file), and never echoed back.
 */
function certificateOf(value: unknown): CertificateBundle {
  const raw = record('certificate', value)
  const text = (field: string) => {
    if (typeof raw[field] !== 'string') throw new ValidationError('certificate', `certificate.${field} must be a string`)
    return raw[field] as string
  }
  const checked = checkBundle({certText: text('cert_pem'), chainText: text('chain_pem'), keyText: text('key_pem')})
  return {id: id('certificate.id', raw.id), sans: checked.facts.sans, ...checked.material}
}

/** Checks a graph received from a controller; `safeConnectionLimit` is this host's (see `lbaas doctor`). */
export function parsePoolGraph(value: unknown, safeConnectionLimit: number): PoolGraph {
  const raw = record('graph', value)
  const pool = poolOf(raw.pool)
  const subnet = subnetOf('subnet', raw.subnet)
  if (subnet.id !== pool.subnet_id) throw new ValidationError('subnet', "the subnet sent is not the pool's subnet")
  const members = list('members', raw.members).map((member) => memberOf(pool.id, member))
  const monitors = list('monitors', raw.monitors).map(monitorOf)
  const monitorIds = new Set(monitors.map((monitor) => monitor.id))
  const associations = list('associations', raw.associations).map((association) => associationOf(pool.id, monitorIds, association))
  const vip = raw.vip === null || raw.vip === undefined ? null : vipOf(pool.id, raw.vip, safeConnectionLimit)
  let vipSubnet: Subnet | null = null
  if (vip) {
    vipSubnet = subnetOf('vipSubnet', raw.vipSubnet)
    if (vipSubnet.id !== vip.subnet_id) throw new ValidationError('vipSubnet', "the subnet sent is not the VIP's subnet")
    const terminated = vip.protocol === 'TERMINATED_HTTPS' && pool.protocol === 'HTTP'
    if (vip.protocol !== pool.protocol && !terminated) throw new ValidationError('protocol', "the VIP's protocol differs from the pool's")
  }
  const certs = list('certs', raw.certs ?? []).map(certificateOf)
  const needed = vip?.protocol === 'TERMINATED_HTTPS' ? [vip.default_cert, ...vip.sni_certs] : []
  if (vip?.protocol === 'TERMINATED_HTTPS' && vip.default_cert === null) throw new ValidationError('default_cert', 'a TERMINATED_HTTPS VIP needs a default certificate')
  const sent = new Set(certs.map((cert) => cert.id))
  if (needed.some((certId) => !sent.has(certId!)) || sent.size !== certs.length || certs.length !== new Set(needed).size) {
    throw new ValidationError('certs', "the certificates sent are not exactly the VIP's")
  }
  const unique = (ids: string[]) => new Set(ids).size === ids.length
  if (!unique(members.map((member) => member.id)) || !unique(monitors.map((monitor) => monitor.id))) {
    throw new ValidationError('graph', 'the same member or monitor was sent twice')
  }
  return {
    pool: {...pool, vip_id: vip?.id ?? null, members: members.map((member) => member.id), health_monitors: associations.map((a) => a.monitor_id)},
    subnet,
    members,
    monitors,
    associations,
    vip,
    vipSubnet,
    certs,
  }
}
