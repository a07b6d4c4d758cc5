import {describe, expect, it} from 'vitest'

import * as rules from '../../../src/domain/validation.js'
import {codeOf} from '../../helpers/errors.js'

const HOSTILE = ['a\nb', 'a\rb', 'a\u0000b', 'tab\there', 'x'.repeat(256), '\u0085next-line', 'bell\u0007']

describe('subnet name', () => {
  it.each(['lab', 'a', 'A.b_c-9', 'x'.repeat(64)])('accepts %j', (name) => {
    expect(rules.subnetName(name)).toBe(name)
  })
  it.each(['', 'x'.repeat(65), 'has space', 'semi;colon', 'hash#', 'ünïcode', '$(reboot)', 'a/b', ...HOSTILE])(
    'rejects %j',
    (name) => {
      expect(codeOf(() => rules.subnetName(name))).toBe('invalid_name')
    },
  )
  it('rejects a name shaped like an id', () => {
    expect(codeOf(() => rules.subnetName('0b8f3f6e-8a4f-4c55-9d1e-2c9f4b1f8a10'))).toBe('invalid_name')
  })
  it('rejects non-strings', () => {
    expect(codeOf(() => rules.subnetName(42))).toBe('invalid_name')
  })
})

describe('pool and VIP names, descriptions', () => {
  it.each(['web', 'web tier #1', 'ünïcode 名前', '$(rm -rf /); `x`', "quote's \"double\""])('accepts %j', (name) => {
    expect(rules.displayName(name)).toBe(name)
  })
  it('accepts 255 characters, counting code points', () => {
    expect(rules.displayName('名'.repeat(255))).toHaveLength(255)
  })
  it.each(['', ...HOSTILE, '\ud800lone'])('rejects %j', (name) => {
    expect(codeOf(() => rules.displayName(name))).toBe('invalid_name')
  })
  it('rejects an id-shaped name', () => {
    expect(codeOf(() => rules.displayName('0B8F3F6E-8A4F-4C55-9D1E-2C9F4B1F8A10'))).toBe('invalid_name')
  })
  it('description may be empty but not hostile', () => {
    expect(rules.freeText('description', '')).toBe('')
    expect(codeOf(() => rules.freeText('description', 'two\nlines'))).toBe('invalid_description')
    expect(codeOf(() => rules.freeText('description', 'd'.repeat(256)))).toBe('invalid_description')
  })
})

describe('enumerations', () => {
  it('normalises case', () => {
    expect(rules.protocol('http')).toBe('HTTP')
    expect(rules.lbMethod('least_connections')).toBe('LEAST_CONNECTIONS')
    expect(rules.monitorType('Ping')).toBe('PING')
  })
  it.each([
    ['protocol', () => rules.protocol('UDP')],
    ['protocol', () => rules.protocol('HTTP ')],
    ['lb_method', () => rules.lbMethod('RANDOM')],
    ['type', () => rules.monitorType('ICMP')],
  ])('rejects bad %s', (field, run) => {
    expect(codeOf(run)).toBe(`invalid_${field}`)
  })
})

describe('integers and ports', () => {
  it.each([
    ['1', 1],
    ['65535', 65_535],
    [80, 80],
  ])('port %j', (input, expected) => {
    expect(rules.protocolPort(input)).toBe(expected)
  })
  it.each(['0', '65536', '-1', '80.5', '0x50', '1e3', ' 80', '80 ', '+80', '', 'eighty', 8.5, null])('rejects port %j', (input) => {
    expect(codeOf(() => rules.protocolPort(input))).toBe('invalid_protocol_port')
  })
  it('weight 0–256', () => {
    expect(rules.weight('0')).toBe(0)
    expect(rules.weight(256)).toBe(256)
    expect(codeOf(() => rules.weight('257'))).toBe('invalid_weight')
    expect(codeOf(() => rules.weight('-1'))).toBe('invalid_weight')
  })
})

describe('booleans', () => {
  it.each([
    ['true', true],
    ['FALSE', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['off', false],
    [true, true],
  ])('%j', (input, expected) => {
    expect(rules.bool('admin_state_up', input)).toBe(expected)
  })
  it('rejects anything else', () => {
    expect(codeOf(() => rules.bool('admin_state_up', 'maybe'))).toBe('invalid_admin_state_up')
  })
})

describe('addresses', () => {
  it('canonicalises', () => {
    expect(rules.ipAddress('address', '198.18.0.11')).toEqual({address: '198.18.0.11', family: 4})
    expect(rules.ipAddress('address', '2001:DB8:0:0::1')).toEqual({address: '2001:db8::1', family: 6})
  })
  it.each(['198.18.0', '198.18.0.256', '0x7f.0.0.1', '010.1.1.1', 'fe80::1%eth0', 'host.example', '1.2.3.4\n', '1.2.3.4 ', ''])(
    'rejects %j',
    (input) => {
      expect(codeOf(() => rules.ipAddress('address', input))).toBe('invalid_address')
    },
  )
})

describe('bridge names', () => {
  it('accepts existing-bridge names', () => {
    expect(rules.bridgeName('br0')).toBe('br0')
    expect(rules.bridgeName('x'.repeat(15))).toHaveLength(15)
  })
  it.each(['x'.repeat(16), 'br 0', 'br/0', '..', 'lbbr-1234', 'lbv0001', ''])('rejects %j', (input) => {
    expect(codeOf(() => rules.bridgeName(input))).toBe('invalid_bridge')
  })
})

describe('health monitor fields', () => {
  it('delay, timeout, max_retries', () => {
    expect(rules.delay('1')).toBe(1)
    expect(codeOf(() => rules.delay('0'))).toBe('invalid_delay')
    expect(codeOf(() => rules.timeout('0'))).toBe('invalid_timeout')
    expect(rules.maxRetries('10')).toBe(10)
    expect(codeOf(() => rules.maxRetries('0'))).toBe('invalid_max_retries')
    expect(codeOf(() => rules.maxRetries('11'))).toBe('invalid_max_retries')
  })
  it('timeout may equal but not exceed delay', () => {
    expect(() => rules.timeoutWithinDelay(5, 5)).not.toThrow()
    expect(codeOf(() => rules.timeoutWithinDelay(6, 5))).toBe('invalid_timeout')
  })
  it('http_method: upper-case letters, at most 16', () => {
    expect(rules.httpMethod('GET')).toBe('GET')
    expect(rules.httpMethod('OPTIONS')).toBe('OPTIONS')
    for (const bad of ['get', 'GET /evil', 'GET\n', 'G#T', 'X'.repeat(17), '', 'GE-T']) {
      expect(codeOf(() => rules.httpMethod(bad)), bad).toBe('invalid_http_method')
    }
  })
  it('url_path: visible ASCII after a leading slash', () => {
    for (const good of ['/', '/healthz', '/a?b=c&d=e', '/#frag', "/'quoted'", '/x'.repeat(127)]) {
      expect(rules.urlPath(good), good).toBe(good)
    }
    for (const bad of ['healthz', '/a b', '/a\nserver evil 192.0.2.66:80', '/\t', '/ünï', '/x'.repeat(128), '', '/\u0000']) {
      expect(codeOf(() => rules.urlPath(bad)), JSON.stringify(bad)).toBe('invalid_url_path')
    }
  })
  it('expected_codes: codes, lists, ranges and mixes, canonical without spaces', () => {
    expect(rules.expectedCodes('200')).toBe('200')
    expect(rules.expectedCodes('200,202')).toBe('200,202')
    expect(rules.expectedCodes('200, 202')).toBe('200,202')
    expect(rules.expectedCodes('200-204')).toBe('200-204')
    expect(rules.expectedCodes('200,201-203')).toBe('200,201-203')
    for (const bad of ['204-200', '2000', '200-', '200;201', '99', '600', '200,', ',200', '200\n', 'abc', '200-600', '']) {
      expect(codeOf(() => rules.expectedCodes(bad)), JSON.stringify(bad)).toBe('invalid_expected_codes')
    }
  })
  it('expands codes sorted numerically without duplicates', () => {
    expect(rules.expandExpectedCodes('202,200-201,200')).toEqual([200, 201, 202])
  })
})

describe('session persistence', () => {
  it('parses the flag forms', () => {
    expect(rules.sessionPersistence('SOURCE_IP')).toEqual({type: 'SOURCE_IP'})
    expect(rules.sessionPersistence('http_cookie')).toEqual({type: 'HTTP_COOKIE'})
    expect(rules.sessionPersistence('APP_COOKIE:JSESSIONID')).toEqual({type: 'APP_COOKIE', cookie_name: 'JSESSIONID'})
    expect(rules.sessionPersistence("APP_COOKIE:a'b#c$d")).toEqual({type: 'APP_COOKIE', cookie_name: "a'b#c$d"})
    expect(rules.sessionPersistence('none')).toBeNull()
    expect(rules.sessionPersistence(null)).toBeNull()
  })
  it('parses the JSON form', () => {
    expect(rules.sessionPersistence({type: 'APP_COOKIE', cookie_name: 'sid'})).toEqual({type: 'APP_COOKIE', cookie_name: 'sid'})
  })
  it('requires cookie_name for APP_COOKIE only', () => {
    expect(codeOf(() => rules.sessionPersistence('APP_COOKIE'))).toBe('invalid_cookie_name')
    expect(codeOf(() => rules.sessionPersistence('APP_COOKIE:'))).toBe('invalid_cookie_name')
    expect(codeOf(() => rules.sessionPersistence('SOURCE_IP:sid'))).toBe('invalid_cookie_name')
    expect(codeOf(() => rules.sessionPersistence({type: 'HTTP_COOKIE', cookie_name: 'x'}))).toBe('invalid_cookie_name')
  })
  it('cookie names are tokens', () => {
    for (const bad of ['a b', 'a;b', 'a=b', 'a\nb', 'a,b', 'a(b)', 'ünï', 'x'.repeat(256)]) {
      expect(codeOf(() => rules.sessionPersistence(`APP_COOKIE:${bad}`)), bad).toBe('invalid_cookie_name')
    }
  })
  it('rejects unknown types', () => {
    expect(codeOf(() => rules.sessionPersistence('STICKY'))).toBe('invalid_session_persistence')
    expect(codeOf(() => rules.sessionPersistence(['SOURCE_IP']))).toBe('invalid_session_persistence')
  })
})

describe('connection limit', () => {
  it('-1 or 1..safe maximum', () => {
    expect(rules.connectionLimit('-1', 8000)).toBe(-1)
    expect(rules.connectionLimit('1', 8000)).toBe(1)
    expect(rules.connectionLimit('8000', 8000)).toBe(8000)
    for (const bad of ['0', '-2', '8001', 'unlimited']) {
      expect(codeOf(() => rules.connectionLimit(bad, 8000)), bad).toBe('invalid_connection_limit')
    }
  })
})

describe('ipEndpoint', () => {
  it('accepts IPv4:PORT and [IPv6]:PORT, canonically', () => {
    expect(rules.ipEndpoint('listen', '127.0.0.1:9120')).toMatchObject({address: '127.0.0.1', port: 9120, family: 4, text: '127.0.0.1:9120'})
    expect(rules.ipEndpoint('listen', '[::1]:514')).toMatchObject({address: '::1', port: 514, family: 6, text: '[::1]:514'})
  })

  it.each(['localhost:80', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:80', '[127.0.0.1]:80', '1.2.3:4', '127.0.0.1:80 x', '127.0.0.1:80\nlog'])(
    'refuses %j with invalid_<field>',
    (text) => {
      expect(() => rules.ipEndpoint('syslog', text)).toThrow(expect.objectContaining({code: 'invalid_syslog', exit: 2}))
    },
  )
})
