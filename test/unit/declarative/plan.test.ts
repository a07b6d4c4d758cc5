/**
 * The planner, case by case (SPEC §8.2): state + desired file → actions and host effects.
 * Pure: the state is written out here as plain objects.
 */
import {describe, expect, it} from 'vitest'

import type {DesiredFile, DesiredPool} from '../../../src/declarative/file.js'
import {exportFile} from '../../../src/declarative/export.js'
import {planApply, type Action} from '../../../src/declarative/plan.js'
import {validateApplyFile} from '../../../src/declarative/validate.js'
import type {StateSnapshot} from '../../../src/declarative/state.js'
import type {Member, Monitor, Pool, Subnet, Vip} from '../../../src/domain/types.js'

const SUBNET_ID = '00000000-0000-4000-8000-000000000001'
const POOL_ID = '00000000-0000-4000-8000-000000000010'
const POOL2_ID = '00000000-0000-4000-8000-000000000011'
const MONITOR_ID = '00000000-0000-4000-8000-000000000020'
const MONITOR2_ID = '00000000-0000-4000-8000-000000000021'
const VIP_ID = '00000000-0000-4000-8000-000000000030'

const subnet = (stack: string | null = 'shop'): StateSnapshot['subnets'][number] => ({
  id: SUBNET_ID, name: 'lab', cidr: '198.18.0.0/24', gateway_ip: '198.18.0.1', bridge: 'lbbr-00000000', managed: true, stack,
} satisfies Subnet & {stack: string | null})

const monitor = (id = MONITOR_ID, name = 'http-check', stack: string | null = 'shop', pools: string[] = [POOL_ID]): StateSnapshot['monitors'][number] => ({
  id, name, type: 'HTTP', delay: 2, timeout: 1, max_retries: 2, http_method: 'GET', url_path: '/healthz', expected_codes: '200',
  admin_state_up: true, pools: pools.map((pool_id) => ({pool_id, status: 'ACTIVE' as const})), stack,
} satisfies Monitor & {stack: string | null})

const pool = (id = POOL_ID, name = 'web', stack: string | null = 'shop', overrides: Partial<Pool> = {}): StateSnapshot['pools'][number] => ({
  id, name, description: '', subnet_id: SUBNET_ID, protocol: 'HTTP', lb_method: 'ROUND_ROBIN', admin_state_up: true, status: 'ACTIVE',
  status_description: null, operating_status: 'ONLINE', vip_id: null, members: [], health_monitors: [], agent: 'local', stack, ...overrides,
})

const member = (n: number, poolId = POOL_ID, overrides: Partial<Member> = {}): Member => ({
  id: `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`, pool_id: poolId, address: `198.18.0.${10 + n}`, protocol_port: 8000,
  weight: 1, admin_state_up: true, status: 'ACTIVE', status_description: null, operating_status: 'ONLINE', ...overrides,
})

const vip = (overrides: Partial<Vip> = {}, stack: string | null = 'shop'): StateSnapshot['vips'][number] => ({
  id: VIP_ID, name: 'web-vip', description: '', pool_id: POOL_ID, subnet_id: SUBNET_ID, address: '198.18.0.100', protocol: 'HTTP',
  protocol_port: 80, connection_limit: -1, session_persistence: null, syslog: null, admin_state_up: true, status: 'ACTIVE', status_description: null,
  default_cert: null, sni_certs: [], redirect_http: false, ...overrides, stack,
})

/** A deployed pool `web` with two members, monitor `http-check` and VIP web-vip, all of stack shop. */
function deployedState(): StateSnapshot {
  return {
    subnets: [subnet()],
    monitors: [monitor()],
    pools: [pool(POOL_ID, 'web', 'shop', {vip_id: VIP_ID})],
    members: [member(1), member(2)],
    associations: [{pool_id: POOL_ID, monitor_id: MONITOR_ID, status: 'ACTIVE', status_description: null, position: 1}],
    vips: [vip()],
    certs: [],
  }
}

function webPool(overrides: Partial<DesiredPool> = {}): DesiredPool {
  return {
    name: 'web', description: '', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN', admin_state_up: true, monitors: ['http-check'],
    members: [
      {address: '198.18.0.11', protocol_port: 8000, weight: 1, admin_state_up: true},
      {address: '198.18.0.12', protocol_port: 8000, weight: 1, admin_state_up: true},
    ],
    vip: {name: 'web-vip', description: '', subnet: 'lab', protocol: 'HTTP', protocol_port: 80, connection_limit: -1, session_persistence: null, syslog: null, admin_state_up: true, default_cert: null, sni_certs: [], redirect_http: false},
    ...overrides,
  }
}

function desired(pools: DesiredPool[] = [webPool()], overrides: Partial<DesiredFile> = {}): DesiredFile {
  return {
    stack: 'shop',
    certs: [],
    subnets: [{name: 'lab', cidr: '198.18.0.0/24'}],
    monitors: [{name: 'http-check', type: 'HTTP', delay: 2, timeout: 1, max_retries: 2, http_method: 'GET', url_path: '/healthz', expected_codes: '200', admin_state_up: true}],
    pools,
    ...overrides,
  }
}

const find = (actions: Action[], kind: string, name: string) => actions.find((action) => action.kind === kind && action.name === name)
const changes = (actions: Action[]) => actions.filter((action) => action.op !== 'none' || (action.host ?? 'none') !== 'none')

describe('planApply', () => {
  it('creates everything from an empty state; the new pool deploys and its VIP takes the first free address', () => {
    const plan = planApply({subnets: [], monitors: [], pools: [], members: [], associations: [], vips: [], certs: []}, desired(), {prune: false})
    expect(plan.problems).toEqual([])
    expect(plan.changed).toBe(true)
    expect(plan.actions.map((action) => `${action.kind} ${action.name} ${action.op}`)).toEqual([
      'subnet lab create', 'monitor http-check create', 'pool web create',
      'member web/198.18.0.11:8000 create', 'member web/198.18.0.12:8000 create', 'vip web-vip create',
    ])
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('deploy')
    // .1 is the gateway, .11 and .12 are members: .2 is the first free one.
    expect(find(plan.actions, 'vip', 'web-vip')!.fields.address).toEqual({from: null, to: '198.18.0.2'})
    expect(plan.resolved.pools[0].vip!.address).toBe('198.18.0.2')
  })

  it('plans nothing when the state matches the file', () => {
    const plan = planApply(deployedState(), desired(), {prune: false})
    expect(plan.changed).toBe(false)
    expect(changes(plan.actions)).toEqual([])
  })

  it('keeps an assigned VIP address when the file omits it, and replugs when the file names another', () => {
    expect(planApply(deployedState(), desired(), {prune: false}).resolved.pools[0].vip!.address).toBe('198.18.0.100')
    const moved = webPool()
    moved.vip = {...moved.vip!, address: '198.18.0.101'}
    const plan = planApply(deployedState(), desired([moved]), {prune: false})
    expect(find(plan.actions, 'vip', 'web-vip')!.fields).toEqual({address: {from: '198.18.0.100', to: '198.18.0.101'}})
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('replug')
    expect(plan.destructive).toEqual(['replug VIP web-vip from 198.18.0.100 to 198.18.0.101'])
  })

  it('a VIP syslog change is a field change that reloads the pool', () => {
    const logged = webPool()
    logged.vip = {...logged.vip!, syslog: '198.18.0.5:514'}
    const plan = planApply(deployedState(), desired([logged]), {prune: false})
    expect(find(plan.actions, 'vip', 'web-vip')!.fields).toEqual({syslog: {from: null, to: '198.18.0.5:514'}})
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('reload')
  })

  it('a weight or admin state alone goes through the runtime API', () => {
    const pool = webPool()
    pool.members[1] = {...pool.members[1], weight: 5, admin_state_up: false}
    const plan = planApply(deployedState(), desired([pool]), {prune: false})
    expect(find(plan.actions, 'member', 'web/198.18.0.12:8000')).toMatchObject({op: 'update', fields: {weight: {from: 1, to: 5}, admin_state_up: {from: true, to: false}}})
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('runtime')
  })

  it.each([
    ['lb_method', {lb_method: 'LEAST_CONNECTIONS'}, {from: 'ROUND_ROBIN', to: 'LEAST_CONNECTIONS'}, 'reload'],
    ['admin_state_up', {admin_state_up: false}, {from: true, to: false}, 'reload'],
    ['description', {description: 'shop front'}, {from: '', to: 'shop front'}, 'none'],
    ['agent', {agent: 'agent-b'}, {from: 'local', to: 'agent-b'}, 'reload'],
  ] as const)('pool %s: an update with the host effect it needs', (field, change, fieldChange, host) => {
    const plan = planApply(deployedState(), desired([webPool(change as Partial<DesiredPool>)]), {prune: false})
    expect(find(plan.actions, 'pool', 'web')).toMatchObject({op: 'update', fields: {[field]: fieldChange}, host})
  })

  it.each([
    ['name', 'web-vip-2', 'none'],
    ['description', 'front door', 'none'],
    ['protocol_port', 8080, 'reload'],
    ['connection_limit', 1000, 'reload'],
    ['session_persistence', {type: 'HTTP_COOKIE'}, 'reload'],
    ['admin_state_up', false, 'reload'],
  ] as const)('vip %s: an update with the host effect it needs', (field, value, host) => {
    const pool = webPool()
    pool.vip = {...pool.vip!, [field]: value}
    const plan = planApply(deployedState(), desired([pool]), {prune: false})
    expect(find(plan.actions, 'vip', field === 'name' ? 'web-vip-2' : 'web-vip')!.fields[field]).toEqual({from: vip()[field], to: value})
    expect(find(plan.actions, 'pool', 'web')!.host).toBe(host)
  })

  it.each([
    ['delay', 5], ['timeout', 2], ['max_retries', 3], ['http_method', 'HEAD'], ['url_path', '/status'], ['expected_codes', '200-204'], ['admin_state_up', false], ['type', 'TCP'],
  ] as const)('monitor %s: an update, and every deployed pool using it reloads', (field, value) => {
    const file = desired()
    file.monitors[0] = {...file.monitors[0], [field]: value}
    const plan = planApply(deployedState(), file, {prune: false})
    expect(find(plan.actions, 'monitor', 'http-check')).toMatchObject({op: 'update', fields: {[field]: {from: monitor()[field], to: value}}})
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('reload')
  })

  it('a changed monitor also reloads a deployed pool outside the file that uses it', () => {
    const state = deployedState()
    state.pools[0].stack = null
    const file = desired([])
    file.monitors[0] = {...file.monitors[0], delay: 7}
    const plan = planApply(state, file, {prune: false})
    expect(find(plan.actions, 'pool', 'web')).toMatchObject({op: 'none', host: 'reload'})
  })

  it('a member added or removed reloads the pool; members not listed are removed without --prune', () => {
    const pool = webPool()
    pool.members = [pool.members[0], {address: '198.18.0.13', protocol_port: 8000, weight: 1, admin_state_up: true}]
    const plan = planApply(deployedState(), desired([pool]), {prune: false})
    expect(find(plan.actions, 'member', 'web/198.18.0.13:8000')!.op).toBe('create')
    expect(find(plan.actions, 'member', 'web/198.18.0.12:8000')!.op).toBe('delete')
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('reload')
  })

  it('a member moved between two listed pools is moved, not deleted and created', () => {
    const state = deployedState()
    state.pools.push(pool(POOL2_ID, 'api'))
    const web = webPool()
    web.members = [web.members[0]]
    const api = webPool({name: 'api', monitors: [], vip: null, members: [{address: '198.18.0.12', protocol_port: 8000, weight: 2, admin_state_up: true}]})
    const plan = planApply(state, desired([web, api]), {prune: false})
    const moved = plan.actions.filter((action) => action.kind === 'member' && action.name.endsWith('198.18.0.12:8000'))
    expect(moved).toEqual([expect.objectContaining({name: 'api/198.18.0.12:8000', op: 'update', id: member(2).id, fields: {pool: {from: 'web', to: 'api'}, weight: {from: 1, to: 2}}})])
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('reload')
  })

  it('monitor order is association order: a new order is an update of the pool', () => {
    const state = deployedState()
    state.monitors.push(monitor(MONITOR2_ID, 'tcp-check'))
    state.associations.push({pool_id: POOL_ID, monitor_id: MONITOR2_ID, status: 'ACTIVE', status_description: null, position: 2})
    const file = desired([webPool({monitors: ['tcp-check', 'http-check']})])
    file.monitors.push({...file.monitors[0], name: 'tcp-check'})
    const plan = planApply(state, file, {prune: false})
    expect(find(plan.actions, 'pool', 'web')).toMatchObject({op: 'update', fields: {monitors: {from: ['http-check', 'tcp-check'], to: ['tcp-check', 'http-check']}}, host: 'reload'})
  })

  it('deletes only under --prune, and only objects of the file’s stack', () => {
    const state = deployedState()
    state.pools.push(pool(POOL2_ID, 'by-hand', null), pool('00000000-0000-4000-8000-000000000012', 'other', 'blog'))
    const withoutWeb = desired([])
    expect(changes(planApply(state, withoutWeb, {prune: false}).actions)).toEqual([])
    const plan = planApply(state, withoutWeb, {prune: true})
    expect(changes(plan.actions).map((action) => `${action.kind} ${action.name} ${action.op} ${action.host}`)).toEqual([
      'pool web delete undeploy', 'member web/198.18.0.11:8000 delete null', 'member web/198.18.0.12:8000 delete null', 'vip web-vip delete null',
    ])
    expect(plan.destructive).toEqual(['delete VIP web-vip (198.18.0.100) and pool web'])
    // The monitor is still in the file; without it and without pools it goes too.
    const bare = planApply(state, desired([], {monitors: [], subnets: []}), {prune: true})
    expect(bare.conflicts).toEqual([expect.objectContaining({path: 'subnets'})]) // pools by-hand and other still use the subnet
    expect(find(bare.actions, 'monitor', 'http-check')!.op).toBe('delete')
  })

  it('adopts an unlabelled object of the same name, with its changes', () => {
    const state = deployedState()
    state.pools[0].stack = null
    state.subnets[0].stack = null
    const plan = planApply(state, desired([webPool({lb_method: 'SOURCE_IP'})]), {prune: false})
    expect(find(plan.actions, 'subnet', 'lab')!.op).toBe('adopt')
    expect(find(plan.actions, 'pool', 'web')).toMatchObject({op: 'adopt', fields: {lb_method: {from: 'ROUND_ROBIN', to: 'SOURCE_IP'}}})
    expect(plan.changed).toBe(true)
  })

  it("clashes with another stack's object of the same name: a conflict naming it", () => {
    const state = deployedState()
    state.pools[0].stack = 'blog'
    const plan = planApply(state, desired(), {prune: false})
    expect(plan.conflicts).toEqual([{path: 'pools[0]', message: `pool web (${POOL_ID}) belongs to stack blog`}])
  })

  it('refuses what cannot change in place and references to nothing, with paths', () => {
    const state = deployedState()
    const file = desired([webPool({protocol: 'TCP', monitors: ['nope']})], {subnets: [{name: 'lab', cidr: '198.18.1.0/24'}]})
    const plan = planApply(state, file, {prune: false})
    expect(plan.problems.map((problem) => problem.path).sort()).toEqual(['pools[0].monitors[0]', 'pools[0].protocol', 'subnets[0].cidr'])
  })

  it('retries a pool an earlier apply left PENDING_* or ERROR (a crash, a failed deploy)', () => {
    const state = deployedState()
    state.members[0].status = 'PENDING_CREATE'
    const plan = planApply(state, desired(), {prune: false})
    expect(plan.changed).toBe(true)
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('reload')
  })

  it('a VIP removed from the file undeploys its pool', () => {
    const plan = planApply(deployedState(), desired([webPool({vip: null})]), {prune: false})
    expect(find(plan.actions, 'vip', 'web-vip')!.op).toBe('delete')
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('undeploy')
  })
})

describe('planApply: certificates (SPEC §8.1 certs:)', () => {
  const CERT_ID = '00000000-0000-4000-8000-000000000040'
  const FP_OLD = 'a'.repeat(64)
  const FP_NEW = 'b'.repeat(64)
  const stateCert = (stack: string | null = 'shop', usedBy: string[] = [VIP_ID]): StateSnapshot['certs'][number] => ({
    id: CERT_ID, name: 'shop-cert', subject: 'CN=shop.test', sans: ['shop.test'], issuer: 'CN=Lab CA', not_before: '2026-01-01T00:00:00Z',
    not_after: '2027-01-01T00:00:00Z', days_left: 300, fingerprint_sha256: FP_OLD, key_type: 'EC P-256', used_by: usedBy, key_sha256: 'k1', stack,
  })
  const tlsVip = {protocol: 'TERMINATED_HTTPS' as const, protocol_port: 443, default_cert: 'shop-cert', sni_certs: [], redirect_http: false}
  const tlsState = (stack: string | null = 'shop'): StateSnapshot => ({
    ...deployedState(),
    vips: [vip({protocol: 'TERMINATED_HTTPS', protocol_port: 443, default_cert: CERT_ID})],
    certs: [stateCert(stack)],
  })
  const tlsPool = () => webPool({vip: {...webPool().vip!, ...tlsVip}})
  const withMaterial = (fingerprint: string, key = 'k1') => ({
    name: 'shop-cert', source: {kind: 'files' as const, cert_file: 'c.pem', key_file: 'k.pem'}, checked: {fingerprint_sha256: fingerprint, key_sha256: key},
  })

  it('creates a certificate and a TERMINATED_HTTPS VIP naming it', () => {
    const state = {...deployedState(), vips: [], pools: [pool(POOL_ID, 'web', 'shop')]}
    const plan = planApply(state, desired([tlsPool()], {certs: [withMaterial(FP_NEW)]}), {prune: false})
    expect(plan.problems).toEqual([])
    expect(find(plan.actions, 'cert', 'shop-cert')).toMatchObject({op: 'create', fields: {fingerprint_sha256: {from: null, to: FP_NEW}}})
    expect(find(plan.actions, 'vip', 'web-vip')!.fields.default_cert).toEqual({from: null, to: 'shop-cert'})
  })

  it('plans nothing for the same material, or for a reference (a name alone, as export writes)', () => {
    for (const cert of [withMaterial(FP_OLD), {name: 'shop-cert'}, {name: 'shop-cert', fingerprint_sha256: FP_OLD}]) {
      const plan = planApply(tlsState(), desired([tlsPool()], {certs: [cert]}), {prune: false})
      expect(plan.problems).toEqual([])
      expect(changes(plan.actions)).toEqual([])
    }
  })

  it('rotates on a new fingerprint or a new key: an update with a runtime effect and no pool reload', () => {
    for (const [cert, field] of [[withMaterial(FP_NEW), 'fingerprint_sha256'], [withMaterial(FP_OLD, 'k2'), 'key']] as const) {
      const plan = planApply(tlsState(), desired([tlsPool()], {certs: [cert]}), {prune: false})
      const action = find(plan.actions, 'cert', 'shop-cert')!
      expect(action.op).toBe('update')
      expect(action.host).toBe('runtime')
      expect(Object.keys(action.fields)).toEqual([field])
      expect(find(plan.actions, 'pool', 'web')!.host).toBe('none')
      expect(JSON.stringify(plan.actions)).not.toContain('k2')
    }
  })

  it('reloads the pool when a VIP TLS field changes', () => {
    const pool = webPool({vip: {...webPool().vip!, ...tlsVip, redirect_http: true}})
    const plan = planApply(tlsState(), desired([pool], {certs: [{name: 'shop-cert'}]}), {prune: false})
    expect(find(plan.actions, 'vip', 'web-vip')!.fields.redirect_http).toEqual({from: false, to: true})
    expect(find(plan.actions, 'pool', 'web')!.host).toBe('reload')
  })

  it('reports a reference to a missing certificate, a stale fingerprint and an unknown VIP certificate with their paths', () => {
    const state = {...deployedState(), vips: [], pools: [pool(POOL_ID, 'web', 'shop')]}
    const missing = planApply(state, desired([tlsPool()], {certs: [{name: 'shop-cert'}]}), {prune: false})
    expect(missing.problems.map((problem) => problem.path)).toEqual(['certs[0]'])
    const unnamed = planApply(state, desired([tlsPool()], {certs: []}), {prune: false})
    expect(unnamed.problems).toEqual([{path: 'pools[0].vip.default_cert', message: 'no certificate named shop-cert in the file or the state'}])
    const stale = planApply(tlsState(), desired([tlsPool()], {certs: [{name: 'shop-cert', fingerprint_sha256: FP_NEW}]}), {prune: false})
    expect(stale.problems.map((problem) => problem.path)).toEqual(['certs[0].fingerprint_sha256'])
  })

  it('a certificate of another stack is a conflict (clash)', () => {
    const plan = planApply(tlsState('other'), desired([tlsPool()], {certs: [withMaterial(FP_NEW)]}), {prune: false})
    expect(plan.conflicts).toEqual([{path: 'certs[0]', message: `cert shop-cert (${CERT_ID}) belongs to stack other`}])
  })

  it('adopts an unlabelled certificate given with its material; a reference alone uses it without claiming it', () => {
    const plan = planApply(tlsState(null), desired([tlsPool()], {certs: [withMaterial(FP_OLD)]}), {prune: false})
    expect(find(plan.actions, 'cert', 'shop-cert')!.op).toBe('adopt')
    for (const stack of [null, 'other']) {
      const reference = planApply(tlsState(stack), desired([tlsPool()], {certs: [{name: 'shop-cert'}]}), {prune: false})
      expect(reference.conflicts).toEqual([])
      expect(reference.changed).toBe(false)
    }
  })

  it('exports certificates by reference only: a name and a fingerprint, never key material; applying it plans nothing', () => {
    const state = tlsState()
    const {file} = exportFile(state, {stack: 'shop', poolIds: [POOL_ID]})
    const text = JSON.stringify(file)
    expect((file as {certs: unknown}).certs).toEqual([{name: 'shop-cert', fingerprint_sha256: FP_OLD}])
    for (const secret of ['PRIVATE', 'BEGIN', 'key_pem', 'cert_pem', 'key_sha256', 'k1']) expect(text).not.toContain(secret)
    expect((file as {pools: {vip: unknown}[]}).pools[0].vip).toMatchObject({protocol: 'TERMINATED_HTTPS', default_cert: 'shop-cert', sni_certs: [], redirect_http: false})
    const {file: again, problems} = validateApplyFile(JSON.parse(text), 10_000)
    expect(problems).toEqual([])
    expect(planApply(state, again!, {prune: true}).changed).toBe(false)
  })

  it('--prune deletes a certificate of the stack no VIP serves any more, and only then', () => {
    const unused: StateSnapshot = {...deployedState(), certs: [stateCert('shop', [])]}
    expect(find(planApply(unused, desired(), {prune: true}).actions, 'cert', 'shop-cert')!.op).toBe('delete')
    expect(find(planApply(unused, desired(), {prune: false}).actions, 'cert', 'shop-cert')).toBeUndefined()
    // Served by a VIP outside the file: a conflict, nothing deleted.
    const outside: StateSnapshot = {...deployedState(), pools: [pool(POOL_ID, 'web', 'shop', {vip_id: VIP_ID}), pool(POOL2_ID, 'api', 'other')], certs: [stateCert('shop', ['00000000-0000-4000-8000-000000000031'])]}
    outside.vips = [vip(), {...vip({id: '00000000-0000-4000-8000-000000000031', name: 'api-vip', pool_id: POOL2_ID, address: '198.18.0.101', default_cert: CERT_ID, protocol: 'TERMINATED_HTTPS'}), stack: 'other'}]
    const plan = planApply(outside, desired(), {prune: true})
    expect(find(plan.actions, 'cert', 'shop-cert')).toBeUndefined()
    expect(plan.conflicts.map((conflict) => conflict.message)).toEqual(['certificate shop-cert is no longer in the file but VIP api-vip use it'])
  })
})
