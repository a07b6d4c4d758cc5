import {describe, expect, it} from 'vitest'
import {MAX_SAFE_MAXCONN, haproxyHasOpenssl, parseFdLimit, parseHaproxyVersion, probeProgram, readFdLimit, safeMaxConn} from '../../../src/host/limits.js'

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
`

describe('file-descriptor limit', () => {
  it('parses the "Max open files" line', () => {
    expect(parseFdLimit(LIMITS)).toEqual({soft: 1024, hard: 20000})
    expect(parseFdLimit(LIMITS.replace('1024                 20000', 'unlimited            unlimited'))).toEqual({
      soft: Infinity,
      hard: Infinity,
    })
  })

  it('fails loudly when the line is missing', () => {
    expect(() => parseFdLimit('Limit Soft Hard Units\n')).toThrow(/Max open files/)
  })

  it('reads this process', () => {
    const limit = readFdLimit()
    expect(limit.hard).toBeGreaterThanOrEqual(limit.soft)
    expect(limit.soft).toBeGreaterThan(0)
  })
})

describe('safeMaxConn', () => {
  it('gives 9000 under the 20000 hard limit of these hosts', () => {
    expect(safeMaxConn(20_000)).toBe(9_000)
  })

  it('always leaves room for 2 × maxconn + HAProxy’s own descriptors + checked servers', () => {
    for (const hard of [256, 1024, 4096, 20_000, 65_536, 1_048_576]) {
      for (const servers of [0, 100, 1_000, 5_000]) {
        const maxconn = safeMaxConn(hard, servers)
        if (maxconn === 0) continue
        // HAProxy 2.6 refuses to start when 2 × maxconn + 40 + checked servers > hard limit.
        expect(2 * maxconn + 40 + servers).toBeLessThanOrEqual(hard)
      }
    }
  })

  it('shrinks for pools with more checked servers than the default reserve covers', () => {
    expect(safeMaxConn(20_000, 3_000)).toBeLessThan(safeMaxConn(20_000))
    expect(safeMaxConn(20_000, 1_000)).toBe(safeMaxConn(20_000))
  })

  it('caps an unlimited or huge limit and returns 0 when HAProxy cannot run at all', () => {
    expect(safeMaxConn(Infinity)).toBe(MAX_SAFE_MAXCONN)
    expect(safeMaxConn(10_000_000)).toBe(MAX_SAFE_MAXCONN)
    expect(safeMaxConn(100)).toBe(0)
    expect(safeMaxConn(0)).toBe(0)
    expect(safeMaxConn(Number.NaN)).toBe(0)
  })

  it('rounds to tidy numbers', () => {
    expect(safeMaxConn(65_536) % 100).toBe(0)
    expect(safeMaxConn(1_024) % 10).toBe(0)
  })
})

describe('parseHaproxyVersion', () => {
  it('reads the version of `haproxy -v`', () => {
    expect(parseHaproxyVersion('HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term')).toBe('2.6.12-1+deb12u4')
    expect(parseHaproxyVersion('HA-Proxy version 1.8.19 2019/02/11')).toBe('1.8.19')
    expect(parseHaproxyVersion('nginx version: nginx/1.22')).toBeUndefined()
  })
})

describe('fdLimitShortfall', () => {
  it('is silent when the hard limit allows the recorded maxconn', async () => {
    const {fdLimitShortfall} = await import('../../../src/host/fd-limit.js')
    expect(fdLimitShortfall(safeMaxConn(20000), 20000)).toBeUndefined()
    expect(fdLimitShortfall(safeMaxConn(20000), Infinity)).toBeUndefined()
    expect(fdLimitShortfall(1000, 20000)).toBeUndefined()
  })

  it('names both limits and the fixes when the hard limit is lower', async () => {
    const {fdLimitShortfall} = await import('../../../src/host/fd-limit.js')
    const message = fdLimitShortfall(safeMaxConn(20000), 2048)
    expect(message).toContain('(2048)')
    expect(message).toContain(`maxconn ${safeMaxConn(20000)}`)
    expect(message).toContain('ulimit -Hn')
    expect(message).toContain('lbaas doctor --record-limits')
  })
})

describe("doctor's program probe", () => {
  it('a program that runs is present, whatever its exit code, with its first line of output', async () => {
    expect(await probeProgram([process.execPath, '--version'])).toEqual({present: true, firstLine: process.version})
    expect(await probeProgram([process.execPath, '-e', 'console.error("\\n  failing on purpose"); process.exit(3)'])).toEqual({present: true, firstLine: 'failing on purpose'})
  })

  it('a program that cannot start is absent, with why (never a throw)', async () => {
    const probe = await probeProgram(['/nonexistent/lbaas-probe-program', '--version'])
    expect(probe.present).toBe(false)
    expect(probe.present === false && probe.error).toContain('/nonexistent/lbaas-probe-program')
  })
})

describe('haproxyHasOpenssl', () => {
  it('reads the feature list or the OpenSSL line of `haproxy -vv`', () => {
    expect(haproxyHasOpenssl('HAProxy version 2.6.12\nFeature list : +EPOLL -KQUEUE +OPENSSL +LUA\n')).toBe(true)
    expect(haproxyHasOpenssl('HAProxy version 2.6.12\nBuilt with OpenSSL version : OpenSSL 3.0.22\n')).toBe(true)
    expect(haproxyHasOpenssl('HAProxy version 2.6.12\nFeature list : +EPOLL -OPENSSL +LUA\nBuilt without OpenSSL support (USE_OPENSSL not set)\n')).toBe(false)
  })
})
