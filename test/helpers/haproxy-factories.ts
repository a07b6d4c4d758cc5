/**
 * Inputs for HAProxy rendering tests: fixed fake ids and paths, so rendered configurations
 * are byte-stable and can be compared with the golden files in test/fixtures/haproxy/.
 */
import type {Association, CertificateBundle, Member, Monitor, Pool, PoolGraph, Subnet, Vip} from '../../src/domain/types.js'
import type {RenderOptions} from '../../src/haproxy/view.js'

export const SUBNET_ID = '5b000000-0000-4000-8000-000000000001'
export const POOL_ID = 'b1000000-0000-4000-8000-000000000001'
export const VIP_ID = 'f1000000-0000-4000-8000-000000000001'

export function memberId(index: number): string {
  return `a1000000-0000-4000-8000-${String(index).padStart(12, '0')}`
}

export function monitorId(index: number): string {
  return `c1000000-0000-4000-8000-${String(index).padStart(12, '0')}`
}

export function sampleSubnet(overrides: Partial<Subnet> = {}): Subnet {
  return {
    id: SUBNET_ID,
    name: 'golden',
    cidr: '198.18.0.0/24',
    gateway_ip: '198.18.0.1',
    bridge: 'lbbr-5b000000',
    managed: true,
    ...overrides,
  }
}

export function samplePool(overrides: Partial<Pool> = {}): Pool {
  return {
    id: POOL_ID,
    name: 'web pool # with "odd" name',
    description: 'names and descriptions never reach the file',
    subnet_id: SUBNET_ID,
    protocol: 'HTTP',
    lb_method: 'ROUND_ROBIN',
    admin_state_up: true,
    status: 'ACTIVE',
    status_description: null,
    operating_status: 'ONLINE',
    vip_id: VIP_ID,
    members: [],
    health_monitors: [],
    agent: 'local',
    ...overrides,
  }
}

/** Member N: 198.18.0.(20+N):8080, weight 1, admin up, ACTIVE. */
export function sampleMember(index: number, overrides: Partial<Member> = {}): Member {
  return {
    id: memberId(index),
    pool_id: POOL_ID,
    address: `198.18.0.${20 + index}`,
    protocol_port: 8080,
    weight: 1,
    admin_state_up: true,
    status: 'ACTIVE',
    status_description: null,
    operating_status: 'ONLINE',
    ...overrides,
  }
}

/** Monitor N: HTTP GET /healthz every 5 s, timeout 3 s, 3 retries, expecting 200. */
export function sampleMonitor(index: number, overrides: Partial<Monitor> = {}): Monitor {
  return {
    id: monitorId(index),
    name: null,
    type: 'HTTP',
    delay: 5,
    timeout: 3,
    max_retries: 3,
    http_method: 'GET',
    url_path: '/healthz',
    expected_codes: '200',
    admin_state_up: true,
    pools: [{pool_id: POOL_ID, status: 'ACTIVE'}],
    ...overrides,
  }
}

export function sampleVip(overrides: Partial<Vip> = {}): Vip {
  return {
    id: VIP_ID,
    name: 'web vip',
    description: '',
    pool_id: POOL_ID,
    subnet_id: SUBNET_ID,
    address: '198.18.0.10',
    protocol: 'HTTP',
    protocol_port: 80,
    connection_limit: -1,
    session_persistence: null,
    default_cert: null,
    sni_certs: [],
    redirect_http: false,
    syslog: null,
    admin_state_up: true,
    status: 'ACTIVE',
    status_description: null,
    ...overrides,
  }
}

export interface GraphOverrides {
  pool?: Partial<Pool>
  /** null: the pool has no VIP. */
  vip?: Partial<Vip> | null
  members?: Member[]
  /** Associated in this order, unless `associations` is given. */
  monitors?: Monitor[]
  associations?: Association[]
  certs?: CertificateBundle[]
}

/**
 * An HTTP, ROUND_ROBIN pool with two members, no monitor, and a VIP on 198.18.0.10:80.
 * The VIP and pool share the pool's protocol unless overridden.
 */
export function samplePoolGraph(overrides: GraphOverrides = {}): PoolGraph {
  const pool = samplePool(overrides.pool)
  const members = overrides.members ?? [sampleMember(1), sampleMember(2)]
  const monitors = overrides.monitors ?? []
  const associations =
    overrides.associations ??
    monitors.map((monitor, position) => ({
      pool_id: pool.id,
      monitor_id: monitor.id,
      status: 'ACTIVE' as const,
      status_description: null,
      position,
    }))
  const vip = overrides.vip === null ? null : sampleVip({protocol: pool.protocol, ...overrides.vip})
  const subnet = sampleSubnet()
  return {
    pool: {...pool, members: members.map((member) => member.id), health_monitors: monitors.map((monitor) => monitor.id)},
    subnet,
    members,
    monitors,
    associations,
    vip,
    vipSubnet: vip ? subnet : null,
    certs: overrides.certs ?? [],
  }
}

export const GOLDEN_RUN_DIR = '/run/lbaas-golden'

export function sampleRenderOptions(overrides: Partial<RenderOptions> = {}): RenderOptions {
  return {
    statsSocket: `${GOLDEN_RUN_DIR}/${POOL_ID}/stats.sock`,
    serverStateFile: `${GOLDEN_RUN_DIR}/${POOL_ID}/server-state`,
    maxconn: 4000,
    user: 'haproxy',
    group: 'haproxy',
    hardStopAfter: '30s',
    ...overrides,
  }
}
