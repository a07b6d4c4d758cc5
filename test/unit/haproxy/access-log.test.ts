import {describe, expect, it} from 'vitest'

import {parseAccessLogLine} from '../../../src/haproxy/access-log.js'

const MEMBER = '0b8e5a8e-6f0c-4f57-9a8e-1c1d2f3e4a5b'

describe('parseAccessLogLine', () => {
  it('reads an HTTP log line (option httplog) from a timed ring', () => {
    const entry = parseAccessLogLine(
      `<6>2026-12-03T16:12:40.595013+00:00 198.18.7.1:58786 [03/Dec/2026:16:12:40.593] vip-1 pool-1/${MEMBER} 0/0/0/1/2 404 500 - - ---- 1/1/0/0/0 0/0 "GET /nope?a=1 HTTP/1.1"`,
    )
    expect(entry).toEqual({
      time: '2026-12-03T16:12:40.595013+00:00',
      client: '198.18.7.1:58786',
      frontend: 'vip-1',
      backend: 'pool-1',
      server: MEMBER,
      status: 404,
      bytes: 500,
      duration_ms: 2,
      termination_state: '----',
      request: 'GET /nope?a=1 HTTP/1.1',
      line: expect.stringMatching(/^198\.18\.7\.1:58786 .*HTTP\/1\.1"$/),
    })
  })

  it('reads an HTTP line without a server (503) and a client abort (-1)', () => {
    expect(parseAccessLogLine('<6>2026-12-03T16:00:00Z 1.2.3.4:5 [03/Dec/2026:16:00:00.000] f b/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"')).toMatchObject({server: '<NOSRV>', status: 503, termination_state: 'SC--'})
    expect(parseAccessLogLine('<6>2026-12-03T16:00:00Z 1.2.3.4:5 [03/Dec/2026:16:00:00.000] f b/s 0/0/0/-1/+5 -1 0 - - CD-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"')).toMatchObject({status: -1, duration_ms: 5})
  })

  it('reads a TCP log line (option tcplog) and an IPv6 client', () => {
    expect(parseAccessLogLine(`<6>2026-12-03T16:00:00Z [2001:db8::7]:40000 [03/Dec/2026:16:00:00.000] vip pool/${MEMBER} 1/0/12 1543 -- 1/1/0/0/0 0/0`)).toMatchObject({
      client: '[2001:db8::7]:40000',
      server: MEMBER,
      status: null,
      request: null,
      bytes: 1543,
      duration_ms: 12,
      termination_state: '--',
    })
  })

  it('keeps a line it does not know whole', () => {
    expect(parseAccessLogLine('<5>2026-12-03T16:00:00Z Proxy vip started.')).toMatchObject({time: '2026-12-03T16:00:00Z', line: 'Proxy vip started.', status: null, server: null})
    expect(parseAccessLogLine('garbage')).toMatchObject({time: null, line: 'garbage'})
  })
})
