import {describe, expect, it} from 'vitest'

import {checkFunctionName, jobServers} from '../../../src/worker/runtime.js'
import {codeOf} from '../../helpers/errors.js'

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
