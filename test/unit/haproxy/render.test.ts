import {describe, expect, it} from 'vitest'
import {
  backendSection,
  defaultsSection,
  formatDuration,
  frontendSection,
  globalSection,
  logRingSection,
  renderConfig,
  serverLine,
} from '../../../src/haproxy/render.js'
import {buildPoolView, buildProcessView, type BackendView, type FrontendView, type HaproxyView, type ServerView} from '../../../src/haproxy/view.js'
import {
  POOL_ID,
  VIP_ID,
  memberId,
  sampleMember,
  sampleMonitor,
  samplePoolGraph,
  sampleRenderOptions,
} from '../../helpers/haproxy-factories.js'

const M1 = memberId(1)
const M2 = memberId(2)

function poolView(overrides: Parameters<typeof samplePoolGraph>[0] = {}): HaproxyView {
  return buildPoolView(samplePoolGraph(overrides), sampleRenderOptions())
}

describe('formatDuration', () => {
  it('uses the largest unit that divides the duration', () => {
    expect([0, 250, 1_000, 50_000, 60_000, 1_800_000, 3_600_000, 1_500].map(formatDuration)).toEqual([
      '0s',
      '250ms',
      '1s',
      '50s',
      '1m',
      '30m',
      '1h',
      '1500ms',
    ])
  })
})

describe('globalSection and defaultsSection', () => {
  const process = buildProcessView(sampleRenderOptions())

  it('writes maxconn, privilege drop, the admin socket, the state file, hard-stop-after, no system trust store for the unused HTTP client, and the log ring', () => {
    expect(globalSection(process.global)).toEqual([
      'global',
      '    maxconn 4000',
      '    user haproxy',
      '    group haproxy',
      `    stats socket /run/lbaas-golden/${POOL_ID}/stats.sock mode 600 level admin expose-fd listeners`,
      '    stats timeout 30s',
      `    server-state-file /run/lbaas-golden/${POOL_ID}/server-state`,
      '    hard-stop-after 30s',
      '    httpclient.ssl.verify none',
      '    log ring@lbaas-log local0',
    ])
  })

  it('has no daemon keyword: the executor starts HAProxy in master-worker mode', () => {
    expect(globalSection(process.global).join('\n')).not.toMatch(/daemon|master-worker/)
  })

  it('escapes paths chosen by the operator', () => {
    const lines = globalSection({...process.global, statsSocket: '/run/my lb #2/stats.sock'})
    expect(lines).toContain('    stats socket /run/my\\ lb\\ \\#2/stats.sock mode 600 level admin expose-fd listeners')
  })

  it('loads the server state, retries, redispatches and sets the default timeouts', () => {
    expect(defaultsSection(process.defaults)).toEqual([
      'defaults',
      '    log global',
      '    load-server-state-from-file global',
      '    retries 3',
      '    option redispatch',
      '    timeout connect 5s',
      '    timeout client 50s',
      '    timeout server 50s',
    ])
  })

  it('declares the log ring', () => {
    expect(logRingSection(process.logRing!)).toEqual(['ring lbaas-log', '    format timed', '    maxlen 2048', '    size 65536'])
  })
})

describe('frontendSection', () => {
  it('HTTP: httplog, idle-close-on-response, bind and default backend', () => {
    expect(frontendSection(poolView().frontends[0])).toEqual([
      `frontend ${VIP_ID}`,
      '    mode http',
      '    bind 198.18.0.10:80',
      '    maxconn 4000',
      '    option httplog',
      '    option idle-close-on-response',
      `    default_backend ${POOL_ID}`,
    ])
  })

  it('TCP and HTTPS: tcplog, no HTTP options', () => {
    for (const protocol of ['TCP', 'HTTPS'] as const) {
      expect(frontendSection(poolView({pool: {protocol}, vip: {protocol_port: 443}}).frontends[0])).toEqual([
        `frontend ${VIP_ID}`,
        '    mode tcp',
        '    bind 198.18.0.10:443',
        '    maxconn 4000',
        '    option tcplog',
        `    default_backend ${POOL_ID}`,
      ])
    }
  })

  it('brackets an IPv6 VIP, writes the connection limit, and disables an admin-down VIP', () => {
    const lines = frontendSection(poolView({vip: {address: '2001:db8::10', connection_limit: 250, admin_state_up: false}}).frontends[0])
    expect(lines).toContain('    bind [2001:db8::10]:80')
    expect(lines).toContain('    maxconn 250')
    expect(lines.at(-1)).toBe('    disabled')
  })
})

describe('backendSection', () => {
  it('HTTP monitor: httpchk, 2.6-style send, anchored rstatus, check timeout and server checks', () => {
    const backend = poolView({monitors: [sampleMonitor(1, {expected_codes: '200,201-203'})]}).backends[0]
    expect(backendSection(backend)).toEqual([
      `backend ${POOL_ID}`,
      '    mode http',
      '    balance roundrobin',
      '    option forwardfor',
      '    timeout check 3s',
      '    option httpchk',
      '    http-check send meth GET uri /healthz',
      '    http-check expect rstatus ^(20[0-3])$',
      `    server ${M1} 198.18.0.21:8080 weight 1 check inter 5s fall 3 rise 3`,
      `    server ${M2} 198.18.0.22:8080 weight 1 check inter 5s fall 3 rise 3`,
    ])
  })

  it('HTTPS monitor on an HTTPS pool: HTTP check over TLS, never ssl-hello-chk', () => {
    const lines = backendSection(poolView({pool: {protocol: 'HTTPS'}, monitors: [sampleMonitor(1, {type: 'HTTPS'})]}).backends[0])
    expect(lines).toContain('    option httpchk')
    expect(lines).toContain(`    server ${M1} 198.18.0.21:8080 weight 1 check check-ssl verify none inter 5s fall 3 rise 3`)
    expect(lines.join('\n')).not.toMatch(/ssl-hello-chk|forwardfor/)
  })

  it('TCP and PING monitors: plain connect checks', () => {
    for (const type of ['TCP', 'PING'] as const) {
      expect(backendSection(poolView({pool: {protocol: 'TCP'}, monitors: [sampleMonitor(1, {type})]}).backends[0])).toEqual([
        `backend ${POOL_ID}`,
        '    mode tcp',
        '    balance roundrobin',
        '    timeout check 3s',
        `    server ${M1} 198.18.0.21:8080 weight 1 check inter 5s fall 3 rise 3`,
        `    server ${M2} 198.18.0.22:8080 weight 1 check inter 5s fall 3 rise 3`,
      ])
    }
  })

  it('SOURCE_IP persistence with least connections', () => {
    const lines = backendSection(poolView({pool: {lb_method: 'LEAST_CONNECTIONS'}, vip: {session_persistence: {type: 'SOURCE_IP'}}}).backends[0])
    expect(lines.slice(1, 6)).toEqual([
      '    mode http',
      '    balance leastconn',
      '    option forwardfor',
      '    stick-table type ip size 10k expire 30m',
      '    stick on src',
    ])
  })

  it('HTTP_COOKIE: insert cookie and the member id as each server cookie', () => {
    const lines = backendSection(poolView({vip: {session_persistence: {type: 'HTTP_COOKIE'}}}).backends[0])
    expect(lines.slice(3)).toEqual([
      '    option forwardfor',
      '    cookie SRV insert indirect nocache',
      `    server ${M1} 198.18.0.21:8080 weight 1 cookie ${M1}`,
      `    server ${M2} 198.18.0.22:8080 weight 1 cookie ${M2}`,
    ])
  })

  it('APP_COOKIE: a stick table learned from responses and matched on requests', () => {
    const lines = backendSection(poolView({vip: {session_persistence: {type: 'APP_COOKIE', cookie_name: 'JSESSIONID'}}}).backends[0])
    expect(lines.slice(4, 7)).toEqual([
      '    stick-table type string len 64 size 10k expire 30m',
      '    stick store-response res.cook(JSESSIONID)',
      '    stick match req.cook(JSESSIONID)',
    ])
    expect(lines.join('\n')).not.toContain('appsession')
  })

  it('admin-down pool and member: disabled backend and disabled server, weight 0 kept', () => {
    const lines = backendSection(
      poolView({pool: {admin_state_up: false}, members: [sampleMember(1, {admin_state_up: false, weight: 0})]}).backends[0],
    )
    expect(lines.slice(-2)).toEqual([`    server ${M1} 198.18.0.21:8080 weight 0 disabled`, '    disabled'])
  })
})

describe('Libra-shaped views fit the same renderer', () => {
  // What a Libra device builder would produce: two pairs in one file, per-pair timeouts,
  // backup nodes, an HTTP check without expected codes, HAProxy's default rise/fall.
  const process = buildProcessView(sampleRenderOptions())
  const server = (overrides: Partial<ServerView>): ServerView => ({
    name: 'id-1',
    address: '10.0.0.1',
    port: 80,
    weight: 1,
    backup: false,
    disabled: false,
    check: {interval: 30_000, fall: null, rise: null, overTls: false},
    cookie: null,
    ...overrides,
  })
  const frontend = (overrides: Partial<FrontendView>): FrontendView => ({
    name: 'http-in',
    mode: 'http',
    binds: [{address: '0.0.0.0', port: 80}],
    maxconn: 4000,
    log: 'http',
    idleCloseOnResponse: true,
    timeoutClient: 30_000,
    defaultBackend: 'http-servers',
    disabled: false,
    ...overrides,
  })
  const backend = (overrides: Partial<BackendView>): BackendView => ({
    name: 'http-servers',
    mode: 'http',
    balance: 'roundrobin',
    forwardFor: true,
    timeouts: {connect: 30_000, server: 30_000, check: 10_000},
    retries: 3,
    healthCheck: {kind: 'http', method: 'GET', path: '/healthz', expectStatus: null},
    persistence: {kind: 'insert-cookie', cookieName: 'SERVERID'},
    servers: [server({cookie: 'id-1'}), server({name: 'id-2', address: '10.0.0.2', port: 8080, weight: 5, backup: true, cookie: 'id-2'})],
    disabled: false,
    ...overrides,
  })

  it('renders per-backend timeouts, retries, backup servers and default rise/fall', () => {
    expect(backendSection(backend({}))).toEqual([
      'backend http-servers',
      '    mode http',
      '    balance roundrobin',
      '    option forwardfor',
      '    timeout connect 30s',
      '    timeout server 30s',
      '    retries 3',
      '    timeout check 10s',
      '    option httpchk',
      '    http-check send meth GET uri /healthz',
      '    cookie SERVERID insert indirect nocache',
      '    server id-1 10.0.0.1:80 weight 1 check inter 30s cookie id-1',
      '    server id-2 10.0.0.2:8080 weight 5 backup check inter 30s cookie id-2',
    ])
    expect(frontendSection(frontend({}))).toContain('    timeout client 30s')
    expect(frontendSection(frontend({}))).toContain('    bind 0.0.0.0:80')
  })

  it('puts an HTTP and a TCP load balancer in one file', () => {
    const view: HaproxyView = {
      header: ['generated by lbaas for a Libra device'],
      ...process,
      frontends: [frontend({}), frontend({name: 'tcp-in', mode: 'tcp', log: 'tcp', idleCloseOnResponse: false, binds: [{address: '0.0.0.0', port: 3306}], defaultBackend: 'tcp-servers'})],
      backends: [
        backend({}),
        backend({
          name: 'tcp-servers',
          mode: 'tcp',
          balance: 'leastconn',
          forwardFor: false,
          healthCheck: {kind: 'tcp'},
          persistence: {kind: 'source', tableType: 'ip', tableSize: '200k', expire: 1_800_000},
          servers: [server({address: '10.0.0.3', port: 3306, check: {interval: 30_000, fall: 2, rise: 2, overTls: false}})],
        }),
      ],
      warnings: [],
    }
    const text = renderConfig(view)
    expect(text.match(/^frontend /gm)).toHaveLength(2)
    expect(text.match(/^backend /gm)).toHaveLength(2)
    expect(text).toContain('    server id-1 10.0.0.3:3306 weight 1 check inter 30s fall 2 rise 2\n')
    expect(text).toContain('    stick-table type ip size 200k expire 30m\n')
  })
})

describe('renderConfig', () => {
  it('separates sections by blank lines, indents by four spaces and ends with one newline', () => {
    const text = renderConfig(poolView())
    expect(text.endsWith('\n')).toBe(true)
    expect(text.endsWith('\n\n')).toBe(false)
    expect(text.split('\n\n').map((section) => section.split('\n').find((line) => !line.startsWith('#')))).toEqual([
      'global',
      'defaults',
      'ring lbaas-log',
      `frontend ${VIP_ID}`,
      `backend ${POOL_ID}`,
    ])
    for (const line of text.split('\n')) expect(line).toMatch(/^(#|[a-z]|    [a-z]|$)/)
  })

  it('writes only the backend when the pool has no VIP', () => {
    expect(renderConfig(poolView({vip: null}))).not.toContain('frontend')
  })

  it('refuses a server that is not a canonical IP address', () => {
    expect(() => serverLine({...poolView().backends[0].servers[0], address: '198.18.0.1:80 backup'})).toThrow(/canonical IP address/)
    expect(() => serverLine({...poolView().backends[0].servers[0], address: '2001:DB8::1'})).toThrow(/canonical IP address/)
  })
})
