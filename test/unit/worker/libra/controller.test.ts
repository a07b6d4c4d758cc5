import {beforeEach, describe, expect, it} from 'vitest'

import {RuntimeFailure} from '../../../../src/domain/errors.js'
import type {DeviceStatus, MetricsReport} from '../../../../src/worker/device.js'
import type {SwiftTarget} from '../../../../src/worker/libra/archive.js'
import {handleLibra, libraNodeStatus, type LibraDeviceBackend, type LibraControllerOptions} from '../../../../src/worker/libra/controller.js'
import type {DeviceSpec} from '../../../../src/worker/libra/update.js'

class FakeDevice implements LibraDeviceBackend {
  calls: string[] = []
  updates: DeviceSpec[] = []
  failUpdate?: Error
  failSimple?: Error
  status_: DeviceStatus = {kind: 'deleted'}
  metrics_: MetricsReport | 'deleted' = 'deleted'
  logs: string[] | null = null
  archived: string[][] = []

  async update(spec: DeviceSpec) {
    this.calls.push('update')
    if (this.failUpdate) throw this.failUpdate
    this.updates.push(spec)
  }
  async suspend() {
    this.calls.push('suspend')
    if (this.failSimple) throw this.failSimple
  }
  async enable() {
    this.calls.push('enable')
    if (this.failSimple) throw this.failSimple
  }
  async remove() {
    this.calls.push('remove')
  }
  async status() {
    return this.status_
  }
  async metrics() {
    return this.metrics_
  }
  async logLines(_protocol: 'http' | 'tcp'): Promise<string[] | null> {
    return this.logs
  }
  markArchived(lines: readonly string[]) {
    this.archived.push([...lines])
  }
}

let device: FakeDevice
let uploads: {target: SwiftTarget; lines: readonly string[]}[]
let uploadError: Error | undefined
let options: LibraControllerOptions

beforeEach(() => {
  device = new FakeDevice()
  uploads = []
  uploadError = undefined
  options = {
    device,
    version: '9.8.7',
    release: 'lbaas 9.8.7',
    diagnostics: async () => ({
      gearman: [{host: '127.0.0.1', port: 4730, status: 'PASS'}],
      network: 'PASS',
      network_targets: [{target: '127.0.0.1:4730', status: 'PASS'}],
    }),
    upload: async (target, lines) => {
      if (uploadError) throw uploadError
      uploads.push({target, lines})
      return {url: 'http://x/y', etag: 'e', bytes: 1}
    },
  }
})

const send = async (request: Record<string, unknown>) => (await handleLibra(request, options)).response

describe('Libra dispatch (libra.md §2.1, §4)', () => {
  it('testBadAction: an unknown action answers the echo with FAIL and says why', async () => {
    expect(await send({hpcs_action: 'BOGUS', extra: 1})).toEqual({
      hpcs_action: 'BOGUS',
      extra: 1,
      hpcs_response: 'FAIL',
      hpcs_error: "Invalid 'hpcs_action' value: BOGUS",
    })
  })

  it('a missing hpcs_action answers FAIL with the echo', async () => {
    expect(await send({loadBalancers: []})).toMatchObject({loadBalancers: [], hpcs_response: 'FAIL', hpcs_error: "Missing 'hpcs_action' element"})
  })

  it('an hpcs_action that is not a string answers FAIL (Libra raised and sent WORK_FAIL)', async () => {
    expect(await send({hpcs_action: 7})).toMatchObject({hpcs_response: 'FAIL'})
  })

  it('the action is case-insensitive and echoed as sent', async () => {
    expect(await send({hpcs_action: 'discover'})).toEqual({hpcs_action: 'discover', version: '9.8.7', release: 'lbaas 9.8.7', hpcs_response: 'PASS'})
  })

  it('unknown fields pass through untouched', async () => {
    expect(await send({hpcs_action: 'SUSPEND', note: {keep: [1, 2]}})).toEqual({hpcs_action: 'SUSPEND', note: {keep: [1, 2]}, hpcs_response: 'PASS'})
  })

  it('testSuspend/testEnable/testDelete: the doc examples answer the echo with PASS', async () => {
    for (const action of ['SUSPEND', 'ENABLE', 'DELETE']) {
      expect(await send({hpcs_action: action})).toEqual({hpcs_action: action, hpcs_response: 'PASS'})
    }
    expect(device.calls).toEqual(['suspend', 'enable', 'remove'])
  })

  it('a failing SUSPEND/ENABLE answers FAIL with hpcs_error (Libra gave none)', async () => {
    device.failSimple = new RuntimeFailure('device_not_configured', 'No configuration to enable: send UPDATE first')
    expect(await send({hpcs_action: 'ENABLE'})).toEqual({
      hpcs_action: 'ENABLE',
      hpcs_response: 'FAIL',
      hpcs_error: 'No configuration to enable: send UPDATE first',
    })
  })
})

describe('UPDATE through the controller', () => {
  const request = {hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [{id: 1234, address: '10.0.0.1', port: 80}]}]}

  it('testUpdate: PASS, the node ENABLED, the device given the spec', async () => {
    expect(await send(request)).toEqual({
      hpcs_action: 'UPDATE',
      hpcs_response: 'PASS',
      loadBalancers: [{protocol: 'http', nodes: [{address: '10.0.0.1', condition: 'ENABLED', id: 1234, port: 80}]}],
    })
    expect(device.updates).toHaveLength(1)
  })

  it('a badRequest never reaches the device and has Libra\'s shape', async () => {
    const response = await send({hpcs_action: 'UPDATE'})
    expect(response).toEqual({
      badRequest: {
        code: '400',
        message: 'Validation fault',
        details: 'The object is not valid',
        validationErrors: {message: "Missing 'loadBalancers' element"},
      },
    })
    expect(device.calls).toEqual([])
  })

  it('testBadAlgorithm: FAIL, and the device is not touched', async () => {
    const response = await send({hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', algorithm: 'BOGUS', nodes: [{id: 1, address: '10.0.0.1', port: 80}]}]})
    expect(response).toMatchObject({hpcs_response: 'FAIL', hpcs_error: 'Invalid algorithm: BOGUS'})
    expect(device.calls).toEqual([])
  })

  it('a deploy failure answers FAIL with the reason, and every node is DISABLED', async () => {
    device.failUpdate = new RuntimeFailure('config_rejected', 'HAProxy rejected the configuration')
    const response = await send({
      hpcs_action: 'UPDATE',
      loadBalancers: [
        {protocol: 'http', nodes: [{id: 1, address: '10.0.0.1', port: 80}]},
        {protocol: 'tcp', port: 22, nodes: [{id: 2, address: '10.0.0.2', port: 22}]},
      ],
    })
    expect(response.hpcs_response).toBe('FAIL')
    expect(response.hpcs_error).toBe('HAProxy rejected the configuration')
    const conditions = (response.loadBalancers as {nodes: {condition: string}[]}[]).flatMap((lb) => lb.nodes.map((node) => node.condition))
    expect(conditions).toEqual(['DISABLED', 'DISABLED'])
  })
})

describe('STATS and METRICS', () => {
  it('STATS on a deleted (or never configured) device: FAIL, status DELETED, Libra\'s message', async () => {
    expect(await send({hpcs_action: 'STATS'})).toEqual({
      hpcs_action: 'STATS',
      status: 'DELETED',
      hpcs_response: 'FAIL',
      hpcs_error: 'Invalid operation STATS on a deleted LB.',
    })
  })

  it('STATS while HAProxy should run but does not: FAIL "HAProxy is not running."', async () => {
    device.status_ = {kind: 'down'}
    expect(await send({hpcs_action: 'STATS'})).toMatchObject({hpcs_response: 'FAIL', hpcs_error: 'HAProxy is not running.'})
  })

  it('STATS reports node ids as strings from id-<id>, UP or DOWN, and serverN names as they are', async () => {
    device.status_ = {
      kind: 'running',
      servers: [
        {nodeServer: 'id-1', status: 'UP'},
        {nodeServer: 'id-2', status: 'DOWN'},
        {nodeServer: 'id-3', status: 'UP 1/2'},
        {nodeServer: 'id-6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c', status: 'DOWN 1/2'},
        {nodeServer: 'server4', status: 'MAINT'},
      ],
    }
    expect(await send({hpcs_action: 'STATS'})).toEqual({
      hpcs_action: 'STATS',
      hpcs_response: 'PASS',
      nodes: [
        {id: '1', status: 'UP'},
        {id: '2', status: 'DOWN'},
        {id: '3', status: 'UP'},
        {id: '6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c', status: 'DOWN'},
        {id: 'server4', status: 'DOWN'},
      ],
    })
  })

  it('STATS of a suspended device passes (Libra failed, and its admin API rebuilt the device): nodes DOWN, status SUSPENDED', async () => {
    device.status_ = {kind: 'suspended', nodeIds: ['1', '2']}
    expect(await send({hpcs_action: 'STATS'})).toEqual({
      hpcs_action: 'STATS',
      hpcs_response: 'PASS',
      status: 'SUSPENDED',
      nodes: [
        {id: '1', status: 'DOWN'},
        {id: '2', status: 'DOWN'},
      ],
    })
  })

  it.each([
    ['UP', 'UP'],
    ['UP 1/3', 'UP'],
    ['DRAIN', 'UP'],
    ['no check', 'UP'],
    ['DOWN', 'DOWN'],
    ['DOWN 1/2', 'DOWN'],
    ['MAINT', 'DOWN'],
    ['MAINT (via b/s)', 'DOWN'],
  ])('HAProxy %s → %s', (haproxy, libra) => {
    expect(libraNodeStatus(haproxy)).toBe(libra)
  })

  it('METRICS replaces loadBalancers with lowercase protocols and integer bytes', async () => {
    device.metrics_ = {utcStart: '2014-01-09 15:11:45.704754', utcEnd: '2014-01-09 15:11:45.704760', loadBalancers: [{protocol: 'http', bytes_out: 1000}]}
    expect(await send({hpcs_action: 'METRICS', loadBalancers: [{protocol: 'HTTP'}]})).toEqual({
      hpcs_action: 'METRICS',
      hpcs_response: 'PASS',
      utc_start: '2014-01-09 15:11:45.704754',
      utc_end: '2014-01-09 15:11:45.704760',
      loadBalancers: [{protocol: 'http', bytes_out: 1000}],
    })
  })

  it('METRICS after DELETE: FAIL, status DELETED', async () => {
    expect(await send({hpcs_action: 'METRICS'})).toEqual({
      hpcs_action: 'METRICS',
      status: 'DELETED',
      hpcs_response: 'FAIL',
      hpcs_error: 'Invalid operation METRICS on a deleted LB.',
    })
  })
})

describe('DISCOVER and DIAGNOSTICS', () => {
  it('testDiscover: version and release, PASS', async () => {
    expect(await send({hpcs_action: 'DISCOVER'})).toEqual({hpcs_action: 'DISCOVER', version: '9.8.7', release: 'lbaas 9.8.7', hpcs_response: 'PASS'})
  })

  it('DIAGNOSTICS always passes and carries gearman[{host,status}] and network', async () => {
    const response = await send({hpcs_action: 'DIAGNOSTICS'})
    expect(response).toMatchObject({hpcs_response: 'PASS', network: 'PASS', gearman: [{host: '127.0.0.1', status: 'PASS'}]})
  })
})

describe('ARCHIVE (libra.md §2.5)', () => {
  const complete = {
    hpcs_action: 'ARCHIVE',
    hpcs_object_store_type: 'Swift',
    hpcs_object_store_basepath: 'lbaaslogs',
    hpcs_object_store_endpoint: 'https://example.com/v1/100',
    hpcs_object_store_token: 'MY_AUTH_TOKEN',
    loadBalancers: [{id: '15', name: 'lb #1', protocol: 'HTTP'}],
  }
  const without = (field: string) => Object.fromEntries(Object.entries(complete).filter(([key]) => key !== field))
  const messageOf = (response: Record<string, unknown>) =>
    (response.badRequest as {validationErrors: {message: string}} | undefined)?.validationErrors.message

  it.each([
    ['hpcs_object_store_type', "Missing 'hpcs_object_store_type' element"],
    ['hpcs_object_store_basepath', "Missing 'hpcs_object_store_basepath' element"],
    ['hpcs_object_store_endpoint', "Missing 'hpcs_object_store_endpoint' element"],
    ['hpcs_object_store_token', "Missing 'hpcs_object_store_token' element"],
    ['loadBalancers', "Missing 'loadBalancers' element"],
  ])('without %s: badRequest %s', async (field, message) => {
    expect(messageOf(await send(without(field)))).toBe(message)
  })

  it('testArchiveInvalidMethod: type "bad" is a badRequest', async () => {
    expect(messageOf(await send({...complete, hpcs_object_store_type: 'bad'}))).toBe("'bad' is not a valid store type")
  })

  it('the type is checked before the other fields', async () => {
    expect(messageOf(await send({hpcs_action: 'ARCHIVE', hpcs_object_store_type: 'ftp'}))).toBe("'ftp' is not a valid store type")
  })

  it('no logs: FAIL "No HAProxy logs found", with the token redacted', async () => {
    const response = await send(complete)
    expect(response).toEqual({...complete, hpcs_object_store_token: '*****', hpcs_response: 'FAIL', hpcs_error: 'No HAProxy logs found'})
  })

  it('uploads the lines of the LB\'s protocol with the token and lbid, answers PASS with the token redacted', async () => {
    device.logs = ['line 1', 'line 2']
    const response = await send(complete)
    expect(response).toEqual({...complete, hpcs_object_store_token: '*****', hpcs_response: 'PASS'})
    expect(uploads).toEqual([
      {target: {endpoint: 'https://example.com/v1/100', basepath: 'lbaaslogs', token: 'MY_AUTH_TOKEN', lbid: '15'}, lines: ['line 1', 'line 2']},
    ])
    expect(device.archived).toEqual([['line 1', 'line 2']])
  })

  it('a Swift failure: Libra\'s message, token redacted, nothing marked archived', async () => {
    device.logs = ['line']
    uploadError = new Error('PUT /v1/100/lbaaslogs answered 401 Unauthorized')
    const response = await send(complete)
    expect(response.hpcs_error).toBe('Failure during Swift operations. Swift enabled?\nException was: PUT /v1/100/lbaaslogs answered 401 Unauthorized')
    expect(response.hpcs_object_store_token).toBe('*****')
    expect(device.archived).toEqual([])
  })

  it('an empty loadBalancers list or a missing id: FAIL with hpcs_error (Libra: an exception, no hpcs_error)', async () => {
    expect(await send({...complete, loadBalancers: []})).toMatchObject({hpcs_response: 'FAIL', hpcs_object_store_token: '*****'})
    expect(await send({...complete, loadBalancers: [{protocol: 'HTTP'}]})).toMatchObject({hpcs_response: 'FAIL', hpcs_error: "Missing load balancer 'id'"})
  })

  it('GALERA archives the tcp lines (Libra filtered on galera-in, which never matches)', async () => {
    let asked: string | undefined
    device.logLines = async (protocol: 'http' | 'tcp') => {
      asked = protocol
      return ['x']
    }
    await send({...complete, loadBalancers: [{id: 7, protocol: 'GALERA'}]})
    expect(asked).toBe('tcp')
    expect(uploads[0]!.target.lbid).toBe('7')
  })
})
