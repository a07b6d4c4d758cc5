import {describe, expect, it} from 'vitest'

import {formatLogLine} from '../../../src/worker/log.js'
import {checkFunctionName, jobServers} from '../../../src/worker/runtime.js'
import {codeOf} from '../../helpers/errors.js'

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
})
