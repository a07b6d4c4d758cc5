import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {syslogAddress} from '../../../src/domain/validation.js'
import {renderConfig} from '../../../src/haproxy/render.js'
import {buildPoolView} from '../../../src/haproxy/view.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip, showVip, updateVip} from '../../../src/service/vips.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import {getVip} from '../../../src/store/vips.js'
import {parsePoolGraph} from '../../../src/worker/native-graph.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {rejectionOf} from '../../helpers/errors.js'
import {samplePoolGraph, sampleRenderOptions} from '../../helpers/haproxy-factories.js'

describe('syslogAddress (SPEC §10)', () => {
  it('takes IPv4:PORT and [IPv6]:PORT, canonical, and none or null as "no syslog"', () => {
    expect(syslogAddress('127.0.0.1:514')).toBe('127.0.0.1:514')
    expect(syslogAddress('[2001:DB8:0::5]:6514')).toBe('[2001:db8::5]:6514')
    expect(syslogAddress('none')).toBeNull()
    expect(syslogAddress(null)).toBeNull()
  })

  it.each([
    ['a host name', 'syslog.example:514'],
    ['no port', '127.0.0.1'],
    ['port 0', '127.0.0.1:0'],
    ['port 65536', '127.0.0.1:65536'],
    ['IPv6 without brackets', '::1:514'],
    ['a newline and a directive', '127.0.0.1:514\n    bind :1'],
    ['a space and more words', '127.0.0.1:514 format raw'],
    ['a number', 514],
  ])('refuses %s', (_what, value) => {
    expect(() => syslogAddress(value)).toThrow(expect.objectContaining({code: 'invalid_syslog'}))
  })
})

describe('rendering the syslog copy', () => {
  const lines = (config: string) => config.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('log ') && line !== 'log global')

  it('adds a second global log line, RFC 5424, next to the ring', () => {
    const config = renderConfig(buildPoolView(samplePoolGraph({vip: {syslog: '127.0.0.1:5514'}}), sampleRenderOptions()))
    expect(lines(config)).toEqual(['log ring@lbaas-log local0', 'log 127.0.0.1:5514 format rfc5424 local0'])
  })

  it('writes an IPv6 server in brackets', () => {
    const config = renderConfig(buildPoolView(samplePoolGraph({vip: {syslog: '[2001:db8::5]:514'}}), sampleRenderOptions()))
    expect(lines(config)).toContain('log [2001:db8::5]:514 format rfc5424 local0')
  })

  it('has only the ring without it, and nothing when logging is turned off', () => {
    expect(lines(renderConfig(buildPoolView(samplePoolGraph(), sampleRenderOptions())))).toEqual(['log ring@lbaas-log local0'])
    const off = renderConfig(buildPoolView(samplePoolGraph({vip: {syslog: '127.0.0.1:5514'}}), sampleRenderOptions({logRingBytes: 0})))
    expect(lines(off)).toEqual([])
  })

  it('refuses a hostile value that reached the graph before it reaches the file', () => {
    const graph = samplePoolGraph({vip: {syslog: '127.0.0.1:514\n    stats socket /tmp/x level admin'}})
    expect(() => buildPoolView(graph, sampleRenderOptions())).toThrow(expect.objectContaining({code: 'invalid_syslog'}))
  })
})

describe('vip --syslog through the service and the store', () => {
  let ctx: ReturnType<typeof testContext>
  beforeEach(async () => {
    ctx = testContext(new RecordingExecutor())
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
  })
  afterEach(() => ctx.cleanup())

  it('stores it on create, keeps it on an update that does not mention it, clears it with none', async () => {
    const created = await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab', syslog: '127.0.0.1:5514'})
    expect(created.syslog).toBe('127.0.0.1:5514')
    expect(getVip(ctx.store.db, created.id)?.syslog).toBe('127.0.0.1:5514')

    await updateVip(ctx, 'v', {connection_limit: '100'})
    expect(showVip(ctx, 'v')).toMatchObject({syslog: '127.0.0.1:5514', connection_limit: 100})

    await updateVip(ctx, 'v', {syslog: '[::1]:514'})
    expect(showVip(ctx, 'v').syslog).toBe('[::1]:514')

    await updateVip(ctx, 'v', {syslog: 'none'})
    expect(showVip(ctx, 'v').syslog).toBeNull()
  })

  it('defaults to null and refuses a host name without changing anything', async () => {
    const created = await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    expect(created.syslog).toBeNull()
    expect(await rejectionOf(updateVip(ctx, 'v', {syslog: 'logs.example:514'}))).toMatchObject({code: 'invalid_syslog', exit: 2})
    expect(showVip(ctx, 'v')).toMatchObject({syslog: null, status: 'ACTIVE'})
  })

  it('is carried in DEPLOY, and an absent field (an older controller) means null', async () => {
    const vip = await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab', syslog: '127.0.0.1:5514'})
    const wire = JSON.parse(JSON.stringify(loadPoolGraph(ctx.store.db, vip.pool_id))) as Record<string, any>
    expect(parsePoolGraph(wire, 8000).vip?.syslog).toBe('127.0.0.1:5514')
    delete wire.vip.syslog
    expect(parsePoolGraph(wire, 8000).vip?.syslog).toBeNull()
    wire.vip.syslog = 'evil.example:514'
    expect(() => parsePoolGraph(wire, 8000)).toThrow(expect.objectContaining({code: 'invalid_syslog'}))
  })
})
