import {describe, expect, it} from 'vitest'

import {archiveObjectName, md5Hex} from '../../../src/worker/libra/archive.js'
import {runDiagnostics} from '../../../src/worker/libra/diagnostics.js'
import {formatLogLine} from '../../../src/worker/log.js'
import {checkFunctionName, jobServers} from '../../../src/worker/runtime.js'
import {devicePlacement} from '../../../src/worker/device.js'
import {codeOf} from '../../helpers/errors.js'

describe('DIAGNOSTICS', () => {
  const servers = [
    {host: '127.0.0.1', port: 4730},
    {host: '10.0.0.9', port: 4730},
  ]
  const reachable = async (target: {host: string}) => target.host === '127.0.0.1'

  it('checks every job server (host, and the port Libra left out) and the configured targets', async () => {
    const result = await runDiagnostics(servers, [{host: '192.0.2.1', port: 80}], reachable)
    expect(result.gearman).toEqual([
      {host: '127.0.0.1', port: 4730, status: 'PASS'},
      {host: '10.0.0.9', port: 4730, status: 'FAIL'},
    ])
    expect(result.network).toBe('FAIL')
    expect(result.network_targets).toEqual([{target: '192.0.2.1:80', status: 'FAIL'}])
  })

  it('checks each target with the default timeout (no array index passed as a timeout)', async () => {
    const calls: unknown[][] = []
    await runDiagnostics(servers, [{host: '192.0.2.1', port: 80}], async (...args: unknown[]) => {
      calls.push(args)
      return true
    })
    expect(calls).toHaveLength(3)
    for (const args of calls) expect(args).toHaveLength(1)
  })

  it('without targets, the network check is the job servers themselves (no hard-coded internet host)', async () => {
    const result = await runDiagnostics(servers, [], reachable)
    expect(result.network).toBe('PASS')
    expect(result.network_targets.map((entry) => entry.target)).toEqual(['127.0.0.1:4730', '10.0.0.9:4730'])
  })
})

describe('ARCHIVE object names', () => {
  it("are Libra's haproxy-YYYYmmdd-HHMMSS.log.gz in UTC", () => {
    expect(archiveObjectName(new Date(Date.UTC(2014, 0, 9, 5, 4, 3)))).toBe('haproxy-20140109-050403.log.gz')
  })

  it('the ETag is the MD5 of the body, in hex', () => {
    expect(md5Hex(Buffer.from('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72')
  })
})

describe('the worker log', () => {
  it('writes logfmt: bare words bare, anything else quoted, nothing for absent fields', () => {
    const line = formatLogLine('warn', 'job', {action: 'UPDATE', pool: 'device', result: 'FAIL', duration_ms: 12.5, error: 'Missing node "id"\nx', skip: undefined}, new Date(0))
    expect(line).toBe('time=1970-01-01T00:00:00.000Z level=warn event=job action=UPDATE pool=device result=FAIL duration_ms=12.5 error="Missing node \\"id\\"\\nx"')
  })
})

describe('serve-worker options', () => {
  it('job servers: --server first, then LBAAS_GEARMAN_SERVERS, then 127.0.0.1:4730', () => {
    expect(jobServers(['a:1', 'b:2,c:3'], {})).toEqual([
      {host: 'a', port: 1},
      {host: 'b', port: 2},
      {host: 'c', port: 3},
    ])
    expect(jobServers(undefined, {LBAAS_GEARMAN_SERVERS: 'x:5, [::1]:6'})).toEqual([
      {host: 'x', port: 5},
      {host: '::1', port: 6},
    ])
    expect(jobServers([], {})).toEqual([{host: '127.0.0.1', port: 4730}])
    expect(codeOf(() => jobServers(['a:99999'], {}))).toBe('invalid_gearman_server')
  })

  it('a function name has no spaces (the admin protocol splits on them)', () => {
    expect(checkFunctionName('lb-01.example')).toBe('lb-01.example')
    expect(codeOf(() => checkFunctionName('a b'))).toBe('invalid_function')
    expect(codeOf(() => checkFunctionName(''))).toBe('invalid_function')
  })

  it('--device-subnet and --device-address go together', () => {
    expect(devicePlacement(undefined, undefined)).toEqual({mode: 'host'})
    expect(devicePlacement('lab', '198.18.0.50')).toEqual({mode: 'namespace', subnet: 'lab', address: '198.18.0.50'})
    expect(codeOf(() => devicePlacement('lab', undefined))).toBe('usage_error')
  })
})
