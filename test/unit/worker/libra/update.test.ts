import {describe, expect, it} from 'vitest'

import {disableAllNodes, parseUpdate, type UpdateOutcome} from '../../../../src/worker/libra/update.js'

const node = (extra: Record<string, unknown> = {}) => ({id: 1, address: '10.0.0.1', port: 80, ...extra})
const update = (loadBalancers: unknown) => ({hpcs_action: 'UPDATE', loadBalancers})
const http = (extra: Record<string, unknown> = {}) => ({protocol: 'http', nodes: [node()], ...extra})

function badRequest(outcome: UpdateOutcome): string {
  if (outcome.kind !== 'badRequest') throw new Error(`expected a badRequest, got ${JSON.stringify(outcome)}`)
  return outcome.message
}

function failure(outcome: UpdateOutcome): {message: string; echo: Record<string, unknown>} {
  if (outcome.kind !== 'fail') throw new Error(`expected FAIL, got ${JSON.stringify(outcome)}`)
  return outcome
}

function accepted(outcome: UpdateOutcome) {
  if (outcome.kind !== 'ok') throw new Error(`expected success, got ${JSON.stringify(outcome)}`)
  return outcome
}

describe("Libra UPDATE: the badRequest messages of libra.md §2.2, in Libra's order", () => {
  it.each([
    ['no loadBalancers', {hpcs_action: 'UPDATE'}, "Missing 'loadBalancers' element"],
    ['field names are case-sensitive (testCaseSensitive)', {hpcs_action: 'UPDATE', LoAdBaLaNcErS: [http()]}, "Missing 'loadBalancers' element"],
    ['no nodes', update([{protocol: 'http'}]), "Missing 'nodes' element"],
    ['no protocol', update([{nodes: [node()]}]), "Missing required 'protocol' value."],
    ['nodes checked before protocol', update([{}]), "Missing 'nodes' element"],
    ['loadBalancers as an object iterates its keys', update({lb: http()}), "Missing 'nodes' element"],
    ['monitor without type', update([http({monitor: {delay: 30, timeout: 10, attempts: 2}})]), "Missing monitor value 'type'"],
    ['monitor without delay', update([http({monitor: {type: 'HTTP', timeout: 10, attempts: 2}})]), "Missing monitor value 'delay'"],
    ['monitor without timeout', update([http({monitor: {type: 'HTTP', delay: 30, attempts: 2}})]), "Missing monitor value 'timeout'"],
    ['monitor without attempts', update([http({monitor: {type: 'HTTP', delay: 30, timeout: 10}})]), "Missing monitor value 'attempts'"],
    ['node without port', update([{protocol: 'http', nodes: [{id: 1, address: '10.0.0.1'}]}]), "Missing node 'port'"],
    ['node without address', update([{protocol: 'http', nodes: [{id: 1, port: 80}]}]), "Missing node 'address'"],
    ['node without id (testUpdateMissingNodeID)', update([{protocol: 'http', nodes: [{address: '10.0.0.1', port: 80}]}]), "Missing node 'id'"],
    ['node with an empty id (testUpdateEmptyNodeID)', update([{protocol: 'http', nodes: [node({id: ''})]}]), "Missing node 'id'"],
    ['port checked before address and id', update([{protocol: 'http', nodes: [{}]}]), "Missing node 'port'"],
  ])('%s', (_name, request, message) => {
    expect(badRequest(parseUpdate(request))).toBe(message)
  })

  it('the first problem wins: a bad first load balancer hides a bad second one', () => {
    const outcome = parseUpdate(update([{protocol: 'tnetennba', nodes: [node()]}, {protocol: 'tcp'}]))
    expect(failure(outcome).message).toBe('Unsupported protocol: tnetennba')
  })
})

describe('Libra UPDATE: driver failures become FAIL with hpcs_error', () => {
  it.each([
    ['an unknown protocol', [{protocol: 'tnetennba', nodes: [node()]}], 'Unsupported protocol: tnetennba'],
    ['TCP without a port', [{protocol: 'tcp', nodes: [node()]}], 'Port is required for this protocol.'],
    ['GALERA without a port', [{protocol: 'GALERA', nodes: [node()]}], 'Port is required for this protocol.'],
    ['a bad algorithm names the algorithm (Libra named the protocol)', [http({algorithm: 'BOGUS'})], 'Invalid algorithm: BOGUS'],
    ['a repeated protocol', [http(), http({port: 8080})], 'Duplicate protocol: http'],
    ['an empty node list (Libra: KeyError in create)', [{protocol: 'http', nodes: []}], 'No nodes given for the HTTP load balancer'],
    ['a port out of range', [http({port: 70000})], 'Invalid port: 70000'],
  ])('%s', (_name, loadBalancers, message) => {
    expect(failure(parseUpdate(update(loadBalancers))).message).toBe(message)
  })

  it('TCP and GALERA would both be tcp-in/tcp-servers (Libra let HAProxy fail without a word): refused, saying why', () => {
    const outcome = parseUpdate(update([{protocol: 'tcp', port: 3306, nodes: [node()]}, {protocol: 'galera', port: 3307, nodes: [node()]}]))
    expect(failure(outcome).message).toMatch(/conflicts with 'tcp'/)
  })

  it('two load balancers on one port are refused', () => {
    const outcome = parseUpdate(update([http({port: 443}), {protocol: 'tcp', port: 443, nodes: [node()]}]))
    expect(failure(outcome).message).toBe('Port 443 is already used by the HTTP load balancer')
  })

  it.each([
    [{weight: 300}, "Failure adding server 1: Server 'weight' 300 exceeds max of 256"],
    [{weight: 257}, "Failure adding server 1: Server 'weight' 257 exceeds max of 256"],
    [{weight: 'abc'}, "Failure adding server 1: Non-integer 'weight' value: 'abc'"],
    [{weight: -1}, "Failure adding server 1: Server 'weight' -1 is below min of 0"],
  ])('weight %j → %s, and the node is DISABLED in the echo', (extra, message) => {
    const outcome = failure(parseUpdate(update([{protocol: 'http', nodes: [node(extra)]}])))
    expect(outcome.message).toBe(message)
    const echoed = (outcome.echo.loadBalancers as {nodes: {condition: string}[]}[])[0].nodes[0]
    expect(echoed.condition).toBe('DISABLED')
  })

  it('Libra\'s exact example: weight 300 → FAIL with hpcs_error and the node DISABLED', () => {
    const nodes: Record<string, unknown>[] = [{id: 1, address: '10.0.0.1', port: 80, weight: 300}]
    const request = update([{protocol: 'http', nodes}])
    const outcome = failure(parseUpdate(request))
    expect(outcome.echo).toEqual({
      hpcs_action: 'UPDATE',
      loadBalancers: [{nodes: [{address: '10.0.0.1', condition: 'DISABLED', id: 1, port: 80, weight: 300}], protocol: 'http'}],
    })
    // The request itself is not changed.
    expect(nodes[0].condition).toBeUndefined()
  })

  it('GALERA takes one non-backup node; more are refused with Libra\'s message', () => {
    const two = [{protocol: 'galera', port: 3306, nodes: [node({id: 1}), node({id: 2, address: '10.0.0.2'})]}]
    expect(failure(parseUpdate(update(two))).message).toBe(
      'Failure adding server 2: Galera protocol does not accept more than one non-backup node',
    )
    const withBackup = [{protocol: 'galera', port: 3306, nodes: [node({id: 1}), node({id: 2, address: '10.0.0.2', backup: 'TRUE'})]}]
    expect(accepted(parseUpdate(update(withBackup))).spec.loadBalancers[0].nodes.map((n) => n.backup)).toEqual([false, true])
  })

  it.each([
    ['a newline in the monitor path', http({monitor: {type: 'HTTP', delay: 5, timeout: 2, attempts: 2, path: '/x\n    bind 0.0.0.0:1'}})],
    ['a space in the monitor path', http({monitor: {type: 'HTTP', delay: 5, timeout: 2, attempts: 2, path: '/a b'}})],
    ['a host name instead of an address', {protocol: 'http', nodes: [node({address: 'evil.example\n  server x'})]}],
    ['a node id with a space', {protocol: 'http', nodes: [node({id: 'a b'})]}],
    ['a port that is not a number', {protocol: 'http', nodes: [node({port: '80 check'})]}],
    ['a timeout that is not a number', http({options: {client_timeout: '30000ms\n'}})],
    ['a monitor type that is not CONNECT or HTTP', http({monitor: {type: 'PING', delay: 5, timeout: 2, attempts: 2}})],
    ['a monitor timeout above the delay', http({monitor: {type: 'CONNECT', delay: 5, timeout: 6, attempts: 2}})],
  ])('nothing unchecked reaches haproxy.cfg: %s → FAIL', (_name, lb) => {
    expect(parseUpdate(update([lb])).kind).toBe('fail')
  })

  it('a failed timeout option says so, as Libra did', () => {
    expect(failure(parseUpdate(update([http({options: {connect_retries: 'x'}})]))).message).toMatch(/^Failed to set timeout values: /)
  })
})

describe('Libra UPDATE: accepted requests', () => {
  it('the test-suite request: PASS shape with the node ENABLED', () => {
    const outcome = accepted(parseUpdate(update([{protocol: 'http', nodes: [{id: 1234, address: '10.0.0.1', port: 80}]}])))
    expect(outcome.echo).toEqual({
      hpcs_action: 'UPDATE',
      loadBalancers: [{protocol: 'http', nodes: [{address: '10.0.0.1', condition: 'ENABLED', id: 1234, port: 80}]}],
    })
    expect(outcome.spec.loadBalancers[0]).toMatchObject({protocol: 'HTTP', port: 80, algorithm: 'ROUND_ROBIN', monitor: null, retries: 3})
    expect(outcome.spec.loadBalancers[0].timeouts).toEqual({client: 30_000, server: 30_000, connect: 30_000})
  })

  it('the production-shaped request of the API: every field mapped', () => {
    const request = update([
      {
        name: 'lb1',
        protocol: 'HTTP',
        algorithm: 'ROUND_ROBIN',
        port: 80,
        nodes: [
          {id: 1, address: '10.0.0.1', port: 80, weight: 1, condition: 'ENABLED', backup: 'FALSE'},
          {id: 2, address: '10.0.0.2', port: 8080, weight: 5, condition: 'ENABLED', backup: 'TRUE'},
        ],
        monitor: {type: 'HTTP', delay: 30, timeout: 10, attempts: 3, path: '/healthz'},
        options: {client_timeout: 30000, server_timeout: 20000, connect_timeout: 5000, connect_retries: 2},
      },
    ])
    const {spec} = accepted(parseUpdate(request))
    expect(spec.loadBalancers[0]).toEqual({
      protocol: 'HTTP',
      port: 80,
      algorithm: 'ROUND_ROBIN',
      monitor: {type: 'HTTP', delay: 30, timeout: 10, attempts: 3, path: '/healthz'},
      timeouts: {client: 30_000, server: 20_000, connect: 5_000},
      retries: 2,
      nodes: [
        {id: '1', address: '10.0.0.1', port: 80, weight: 1, backup: false},
        {id: '2', address: '10.0.0.2', port: 8080, weight: 5, backup: true},
      ],
    })
  })

  it('two LBs, a CONNECT monitor without a path: "/" is written back into the echo (testUpdateMonitorMissingPath)', () => {
    const request = update([
      {name: 'lb2', protocol: 'TCP', port: 443, algorithm: 'LEAST_CONNECTIONS', nodes: [node({id: 3, port: 443})],
        monitor: {type: 'CONNECT', delay: 30, timeout: 30, attempts: 2}},
      {name: 'lb3', protocol: 'HTTP', nodes: [node({id: 4, address: '10.0.0.4'})]},
    ])
    const outcome = accepted(parseUpdate(request))
    const echoed = outcome.echo.loadBalancers as {monitor?: {path: string}}[]
    expect(echoed[0].monitor?.path).toBe('/')
    expect(outcome.spec.loadBalancers.map((lb) => [lb.protocol, lb.port, lb.algorithm])).toEqual([
      ['TCP', 443, 'LEAST_CONNECTIONS'],
      ['HTTP', 80, 'ROUND_ROBIN'],
    ])
  })

  it('testUpdateGoodMonitor: CONNECT, delay 60, timeout 30, attempts 1 and a path', () => {
    const outcome = parseUpdate(update([http({monitor: {type: 'CONNECT', delay: 60, timeout: 30, attempts: 1, path: '/healthcheck'}})]))
    expect(accepted(outcome).spec.loadBalancers[0].monitor).toEqual({type: 'CONNECT', delay: 60, timeout: 30, attempts: 1, path: '/healthcheck'})
  })

  it('an empty path becomes /, a path without a leading / gets one (Libra driver rules)', () => {
    const empty = accepted(parseUpdate(update([http({monitor: {type: 'HTTP', delay: 5, timeout: 2, attempts: 2, path: ''}})])))
    expect(empty.spec.loadBalancers[0].monitor?.path).toBe('/')
    const bare = accepted(parseUpdate(update([http({monitor: {type: 'HTTP', delay: 5, timeout: 2, attempts: 2, path: 'healthz'}})])))
    expect(bare.spec.loadBalancers[0].monitor?.path).toBe('/healthz')
  })

  it('values are case-insensitive, integers may be strings, backup may be a JSON boolean', () => {
    const outcome = accepted(
      parseUpdate(update([{protocol: 'tCp', port: '3306', algorithm: 'least_connections', nodes: [node({weight: '20', backup: true})]}])),
    )
    expect(outcome.spec.loadBalancers[0]).toMatchObject({protocol: 'TCP', port: 3306, algorithm: 'LEAST_CONNECTIONS'})
    expect(outcome.spec.loadBalancers[0].nodes[0]).toMatchObject({weight: 20, backup: true})
  })

  it('UUID node ids work (Libra split the server name on "-" and failed)', () => {
    const id = '6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c'
    expect(accepted(parseUpdate(update([{protocol: 'http', nodes: [node({id})]}]))).spec.loadBalancers[0].nodes[0].id).toBe(id)
  })

  it('IPv6 node addresses are stored canonical', () => {
    const outcome = accepted(parseUpdate(update([{protocol: 'http', nodes: [node({address: '2001:DB8:0::1'})]}])))
    expect(outcome.spec.loadBalancers[0].nodes[0].address).toBe('2001:db8::1')
  })

  it('an empty loadBalancers list is accepted (Libra: a config with only global and defaults)', () => {
    expect(accepted(parseUpdate(update([]))).spec.loadBalancers).toEqual([])
  })

  it('disableAllNodes marks every node of every LB (Libra only did the last LB)', () => {
    const echo = update([http(), {protocol: 'tcp', port: 22, nodes: [node({id: 9})]}])
    disableAllNodes(echo)
    const conditions = (echo.loadBalancers as {nodes: {condition: string}[]}[]).flatMap((lb) => lb.nodes.map((n) => n.condition))
    expect(conditions).toEqual(['DISABLED', 'DISABLED'])
  })
})
