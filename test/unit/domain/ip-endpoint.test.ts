import {describe, expect, it} from 'vitest'

import {ipEndpoint} from '../../../src/domain/validation.js'

describe('ipEndpoint', () => {
  it('accepts IPv4:PORT and [IPv6]:PORT, canonically', () => {
    expect(ipEndpoint('listen', '127.0.0.1:9120')).toMatchObject({address: '127.0.0.1', port: 9120, family: 4, text: '127.0.0.1:9120'})
    expect(ipEndpoint('listen', '[::1]:514')).toMatchObject({address: '::1', port: 514, family: 6, text: '[::1]:514'})
  })

  it.each(['localhost:80', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:80', '[127.0.0.1]:80', '1.2.3:4', '127.0.0.1:80 x', '127.0.0.1:80\nlog'])(
    'refuses %j with invalid_<field>',
    (text) => {
      expect(() => ipEndpoint('syslog', text)).toThrow(expect.objectContaining({code: 'invalid_syslog', exit: 2}))
    },
  )
})
