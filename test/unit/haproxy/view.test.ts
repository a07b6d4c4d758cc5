import {describe, expect, it} from 'vitest'
import {drivingMonitor} from '../../../src/domain/status.js'
import {buildPoolView, expectedStatusRegex, parseDuration} from '../../../src/haproxy/view.js'
import {
  POOL_ID,
  VIP_ID,
  memberId,
  monitorId,
  sampleMember,
  sampleMonitor,
  samplePoolGraph,
  sampleRenderOptions,
} from '../../helpers/haproxy-factories.js'
import {codeOf} from '../../helpers/errors.js'

describe('expectedStatusRegex', () => {
  it('anchors and sorts numerically, whatever the input order', () => {
    expect(expectedStatusRegex([202, 200])).toBe('^(200|202)$')
    expect(expectedStatusRegex([404, 200, 302])).toBe('^(200|302|404)$')
  })

  it('collapses three or more codes of one run of ten into a digit class', () => {
    expect(expectedStatusRegex([200, 201, 202, 203])).toBe('^(20[0-3])$')
    expect(expectedStatusRegex([200, 202, 204, 205, 206])).toBe('^(20[024-6])$')
    expect(expectedStatusRegex([200, 201, 203])).toBe('^(20[013])$')
  })

  it('collapses full runs of ten and keeps 100–599 on one short line', () => {
    const range = (low: number, high: number) => Array.from({length: high - low + 1}, (_, index) => low + index)
    expect(expectedStatusRegex(range(200, 299))).toBe('^(2[0-9][0-9])$')
    expect(expectedStatusRegex(range(200, 249))).toBe('^(2[0-4][0-9])$')
    expect(expectedStatusRegex([...range(200, 219), 226])).toBe('^(2[0-1][0-9]|226)$')
    expect(expectedStatusRegex(range(100, 599))).toBe('^(1[0-9][0-9]|2[0-9][0-9]|3[0-9][0-9]|4[0-9][0-9]|5[0-9][0-9])$')
  })

  it('matches exactly the given codes and nothing else', () => {
    const codes = [200, 201, 202, 203, 207, 208, 301, 302, 404, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509]
    const regex = new RegExp(expectedStatusRegex(codes))
    for (let code = 100; code <= 599; code++) expect(regex.test(String(code))).toBe(codes.includes(code))
  })
})

describe('parseDuration', () => {
  it('reads HAProxy units, bare numbers as milliseconds', () => {
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('1500')).toBe(1_500)
    expect(codeOf(() => parseDuration('30 s'))).toBe('haproxy_render')
  })
})

describe('drivingMonitor', () => {
  it('is the first admin-up monitor by association position, skipping PENDING_DELETE and ERROR associations', () => {
    const graph = samplePoolGraph({
      monitors: [sampleMonitor(1), sampleMonitor(2, {admin_state_up: false}), sampleMonitor(3), sampleMonitor(4), sampleMonitor(5)],
      associations: [
        {pool_id: POOL_ID, monitor_id: monitorId(5), status: 'ACTIVE', status_description: null, position: 4},
        {pool_id: POOL_ID, monitor_id: monitorId(1), status: 'PENDING_DELETE', status_description: null, position: 0},
        {pool_id: POOL_ID, monitor_id: monitorId(2), status: 'ACTIVE', status_description: null, position: 1},
        {pool_id: POOL_ID, monitor_id: monitorId(3), status: 'ERROR', status_description: 'x', position: 2},
        {pool_id: POOL_ID, monitor_id: monitorId(4), status: 'PENDING_CREATE', status_description: null, position: 3},
      ],
    })
    expect(drivingMonitor(graph)?.id).toBe(monitorId(4))
  })

  it('is null when no association qualifies', () => {
    expect(drivingMonitor(samplePoolGraph())).toBeUndefined()
    expect(drivingMonitor(samplePoolGraph({monitors: [sampleMonitor(1, {admin_state_up: false})]}))).toBeUndefined()
  })
})

describe('buildPoolView', () => {
  it('names sections and servers by id only', () => {
    const view = buildPoolView(samplePoolGraph(), sampleRenderOptions())
    expect(view.frontends.map((frontend) => frontend.name)).toEqual([VIP_ID])
    expect(view.backends.map((backend) => backend.name)).toEqual([POOL_ID])
    expect(view.frontends[0].defaultBackend).toBe(POOL_ID)
    expect(view.backends[0].servers.map((server) => server.name)).toEqual([memberId(1), memberId(2)])
    expect(JSON.stringify(view)).not.toContain('web pool')
  })

  it('maps protocols to modes, logs and HTTP-only options', () => {
    const http = buildPoolView(samplePoolGraph(), sampleRenderOptions())
    expect(http.frontends[0]).toMatchObject({mode: 'http', log: 'http', idleCloseOnResponse: true})
    expect(http.backends[0]).toMatchObject({mode: 'http', forwardFor: true})
    for (const protocol of ['HTTPS', 'TCP'] as const) {
      const view = buildPoolView(samplePoolGraph({pool: {protocol}}), sampleRenderOptions())
      expect(view.frontends[0]).toMatchObject({mode: 'tcp', log: 'tcp', idleCloseOnResponse: false})
      expect(view.backends[0]).toMatchObject({mode: 'tcp', forwardFor: false})
    }
  })

  it('maps lb_method to balance', () => {
    const balance = (lb_method: 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP') =>
      buildPoolView(samplePoolGraph({pool: {lb_method}}), sampleRenderOptions()).backends[0].balance
    expect([balance('ROUND_ROBIN'), balance('LEAST_CONNECTIONS'), balance('SOURCE_IP')]).toEqual(['roundrobin', 'leastconn', 'source'])
  })

  it('bounds the frontend by the connection limit, or by the global maxconn when unlimited or larger', () => {
    const maxconn = (connection_limit: number) => {
      const view = buildPoolView(samplePoolGraph({vip: {connection_limit}}), sampleRenderOptions({maxconn: 4000}))
      return {maxconn: view.frontends[0].maxconn, warnings: view.warnings}
    }
    expect(maxconn(-1)).toEqual({maxconn: 4000, warnings: []})
    expect(maxconn(1)).toEqual({maxconn: 1, warnings: []})
    expect(maxconn(4000)).toEqual({maxconn: 4000, warnings: []})
    expect(maxconn(5000).maxconn).toBe(4000)
    expect(maxconn(5000).warnings).toEqual([
      "connection_limit 5000 is above this host's HAProxy maxconn 4000; HAProxy accepts at most 4000",
    ])
  })

  it('keeps admin-down members as disabled servers, drops PENDING_DELETE ones, keeps weight 0', () => {
    const view = buildPoolView(
      samplePoolGraph({
        members: [
          sampleMember(1, {admin_state_up: false}),
          sampleMember(2, {status: 'PENDING_DELETE'}),
          sampleMember(3, {weight: 0, status: 'INACTIVE'}),
        ],
      }),
      sampleRenderOptions(),
    )
    expect(view.backends[0].servers.map(({name, disabled, weight}) => ({name, disabled, weight}))).toEqual([
      {name: memberId(1), disabled: true, weight: 1},
      {name: memberId(3), disabled: false, weight: 0},
    ])
  })

  it('disables the backend for an admin-down pool and the frontend for an admin-down VIP', () => {
    const view = buildPoolView(samplePoolGraph({pool: {admin_state_up: false}, vip: {admin_state_up: false}}), sampleRenderOptions())
    expect(view.backends[0].disabled).toBe(true)
    expect(view.frontends[0].disabled).toBe(true)
  })

  it('has no frontend when the pool has no VIP', () => {
    const view = buildPoolView(samplePoolGraph({vip: null}), sampleRenderOptions())
    expect(view.frontends).toEqual([])
    expect(view.backends).toHaveLength(1)
  })

  it('turns the driving monitor into server checks and the backend check', () => {
    const view = buildPoolView(
      samplePoolGraph({monitors: [sampleMonitor(1, {delay: 7, timeout: 4, max_retries: 5, http_method: 'HEAD', url_path: '/ping', expected_codes: '200,204'})]}),
      sampleRenderOptions(),
    )
    const backend = view.backends[0]
    expect(backend.timeouts.check).toBe(4_000)
    expect(backend.healthCheck).toEqual({kind: 'http', method: 'HEAD', path: '/ping', expectStatus: '^(200|204)$'})
    expect(backend.servers[0].check).toEqual({interval: 7_000, fall: 5, rise: 5, overTls: false})
  })

  it('makes PING and TCP monitors TCP connect checks, HTTPS monitors HTTP over TLS', () => {
    for (const type of ['PING', 'TCP'] as const) {
      const view = buildPoolView(samplePoolGraph({monitors: [sampleMonitor(1, {type})]}), sampleRenderOptions())
      expect(view.backends[0].healthCheck).toEqual({kind: 'tcp'})
      expect(view.backends[0].servers[0].check?.overTls).toBe(false)
    }
    const https = buildPoolView(
      samplePoolGraph({pool: {protocol: 'HTTPS'}, monitors: [sampleMonitor(1, {type: 'HTTPS'})]}),
      sampleRenderOptions(),
    )
    expect(https.backends[0].healthCheck).toMatchObject({kind: 'http', path: '/healthz'})
    expect(https.backends[0].servers.every((server) => server.check?.overTls)).toBe(true)
    expect(https.warnings).toEqual([])
  })

  it('warns when the monitor speaks the wrong protocol for the pool', () => {
    const plainOnTls = buildPoolView(samplePoolGraph({pool: {protocol: 'HTTPS'}, monitors: [sampleMonitor(1)]}), sampleRenderOptions())
    expect(plainOnTls.warnings[0]).toMatch(/^monitor c1000000-0000-4000-8000-000000000001 sends plain HTTP/)
    const tlsOnPlain = buildPoolView(samplePoolGraph({monitors: [sampleMonitor(1, {type: 'HTTPS'})]}), sampleRenderOptions())
    expect(tlsOnPlain.warnings[0]).toMatch(/checks over TLS, but the pool is HTTP/)
  })

  it('renders no checks without a monitor', () => {
    const view = buildPoolView(samplePoolGraph(), sampleRenderOptions())
    expect(view.backends[0].healthCheck).toBeNull()
    expect(view.backends[0].timeouts.check).toBeNull()
    expect(view.backends[0].servers.every((server) => server.check === null)).toBe(true)
  })

  it('maps SOURCE_IP persistence to an ip or ipv6 stick table by the VIP family', () => {
    const persistence = (address: string) =>
      buildPoolView(samplePoolGraph({vip: {address, session_persistence: {type: 'SOURCE_IP'}}}), sampleRenderOptions()).backends[0].persistence
    expect(persistence('198.18.0.10')).toEqual({kind: 'source', tableType: 'ip', tableSize: '10k', expire: 1_800_000})
    expect(persistence('2001:db8::10')).toMatchObject({kind: 'source', tableType: 'ipv6'})
  })

  it('maps HTTP_COOKIE to an insert cookie whose value is the member id, only when there are servers', () => {
    const withServers = buildPoolView(samplePoolGraph({vip: {session_persistence: {type: 'HTTP_COOKIE'}}}), sampleRenderOptions())
    expect(withServers.backends[0].persistence).toEqual({kind: 'insert-cookie', cookieName: 'SRV'})
    expect(withServers.backends[0].servers.map((server) => server.cookie)).toEqual([memberId(1), memberId(2)])
    const empty = buildPoolView(samplePoolGraph({members: [], vip: {session_persistence: {type: 'HTTP_COOKIE'}}}), sampleRenderOptions())
    expect(empty.backends[0].persistence).toBeNull()
  })

  it('maps APP_COOKIE to a stick table on the named cookie', () => {
    const view = buildPoolView(
      samplePoolGraph({vip: {session_persistence: {type: 'APP_COOKIE', cookie_name: 'JSESSIONID'}}}),
      sampleRenderOptions(),
    )
    expect(view.backends[0].persistence).toEqual({
      kind: 'app-cookie',
      cookieName: 'JSESSIONID',
      keyLength: 64,
      tableSize: '10k',
      expire: 1_800_000,
    })
  })

  it('warns that cookie persistence cannot work in tcp mode, and leaves out `cookie` (HAProxy would warn)', () => {
    const https = buildPoolView(
      samplePoolGraph({pool: {protocol: 'HTTPS'}, vip: {session_persistence: {type: 'HTTP_COOKIE'}}}),
      sampleRenderOptions(),
    )
    expect(https.backends[0].persistence).toBeNull()
    expect(https.backends[0].servers.every((server) => server.cookie === null)).toBe(true)
    expect(https.warnings).toEqual([
      'HTTPS is TLS pass-through: HAProxy cannot see cookies, so HTTP_COOKIE persistence has no effect; use SOURCE_IP',
    ])
    const tcp = buildPoolView(
      samplePoolGraph({pool: {protocol: 'TCP'}, vip: {session_persistence: {type: 'APP_COOKIE', cookie_name: 'sid'}}}),
      sampleRenderOptions(),
    )
    expect(tcp.backends[0].persistence).toMatchObject({kind: 'app-cookie', cookieName: 'sid'})
    expect(tcp.warnings).toEqual(['a TCP pool does not parse HTTP: APP_COOKIE persistence has no effect; use SOURCE_IP'])
  })

  it('warns about a pool without members', () => {
    const view = buildPoolView(samplePoolGraph({members: []}), sampleRenderOptions())
    expect(view.warnings).toEqual([`pool ${POOL_ID} has no members: HAProxy answers every request with an error (503 for HTTP)`])
  })

  it('fills global and defaults from the options', () => {
    const view = buildPoolView(samplePoolGraph(), sampleRenderOptions({maxconn: 1234, hardStopAfter: '2m', user: 'u', group: 'g'}))
    expect(view.global).toEqual({
      maxconn: 1234,
      user: 'u',
      group: 'g',
      statsSocket: `/run/lbaas-golden/${POOL_ID}/stats.sock`,
      statsTimeout: 30_000,
      serverStateFile: `/run/lbaas-golden/${POOL_ID}/server-state`,
      hardStopAfter: 120_000,
      logTarget: 'ring@lbaas-log',
    })
    expect(view.defaults).toEqual({
      logGlobal: true,
      loadServerStateFromFile: true,
      retries: 3,
      redispatch: true,
      timeouts: {connect: 5_000, client: 50_000, server: 50_000},
    })
  })

  it('drops logging (and the log formats HAProxy would then warn about) when the ring is turned off', () => {
    const view = buildPoolView(samplePoolGraph(), sampleRenderOptions({logRingBytes: 0}))
    expect(view.logRing).toBeNull()
    expect(view.global.logTarget).toBeNull()
    expect(view.defaults.logGlobal).toBe(false)
    expect(view.frontends[0].log).toBeNull()
  })

  it('refuses a stats socket path HAProxy would reject as too long', () => {
    const dir = `/${'d'.repeat(50)}`
    expect(codeOf(() => buildPoolView(samplePoolGraph(), sampleRenderOptions({statsSocket: `${dir}/${POOL_ID}/stats.sock`})))).toBe(
      'run_dir_too_long',
    )
    expect(codeOf(() => buildPoolView(samplePoolGraph(), sampleRenderOptions({statsSocket: 'relative/stats.sock'})))).toBe('haproxy_render')
  })

  it('refuses a global maxconn that is not a positive integer', () => {
    expect(codeOf(() => buildPoolView(samplePoolGraph(), sampleRenderOptions({maxconn: 0})))).toBe('haproxy_render')
  })
})
