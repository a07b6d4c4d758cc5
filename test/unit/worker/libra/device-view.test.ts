import {describe, expect, it} from 'vitest'

import {renderConfig} from '../../../../src/haproxy/render.js'
import type {RenderOptions} from '../../../../src/haproxy/view.js'
import {buildDeviceView, nodeIdOf} from '../../../../src/worker/libra/device-view.js'
import {parseUpdate, type DeviceSpec} from '../../../../src/worker/libra/update.js'

const options: RenderOptions = {
  statsSocket: '/run/lbaas/00000000-0000-4000-8000-000000000001/stats.sock',
  serverStateFile: '/run/lbaas/00000000-0000-4000-8000-000000000001/server-state',
  maxconn: 4000,
  user: 'haproxy',
  group: 'haproxy',
  hardStopAfter: '30s',
}
const placement = {bindAddress: '0.0.0.0', deviceId: '00000000-0000-4000-8000-000000000001'}

function specOf(loadBalancers: unknown[]): DeviceSpec {
  const outcome = parseUpdate({hpcs_action: 'UPDATE', loadBalancers})
  if (outcome.kind !== 'ok') throw new Error(JSON.stringify(outcome))
  return outcome.spec
}

function section(config: string, header: string): string[] {
  const lines = config.split('\n')
  const start = lines.indexOf(header)
  if (start < 0) throw new Error(`no section ${header} in\n${config}`)
  const end = lines.findIndex((line, index) => index > start && line === '')
  return lines.slice(start + 1, end < 0 ? undefined : end).map((line) => line.trim())
}

describe('the HAProxy configuration of a Libra device (libra.md §3.3)', () => {
  it('renders the production-shaped HTTP request: http-in / http-servers, cookie, checks, backup, timeouts', () => {
    const spec = specOf([
      {
        protocol: 'HTTP',
        port: 80,
        nodes: [
          {id: 1, address: '10.0.0.1', port: 80, weight: 1, backup: 'FALSE'},
          {id: 2, address: '10.0.0.2', port: 8080, weight: 5, backup: 'TRUE'},
        ],
        monitor: {type: 'HTTP', delay: 30, timeout: 10, attempts: 3, path: '/healthz'},
        options: {client_timeout: 30000, server_timeout: 30000, connect_timeout: 30000, connect_retries: 3},
      },
    ])
    const config = renderConfig(buildDeviceView(spec, placement, options))
    expect(section(config, 'frontend http-in')).toEqual([
      'mode http',
      'bind 0.0.0.0:80',
      'maxconn 4000',
      'option httplog',
      'option idle-close-on-response',
      'timeout client 30s',
      'default_backend http-servers',
    ])
    expect(section(config, 'backend http-servers')).toEqual([
      'mode http',
      'balance roundrobin',
      'option forwardfor',
      'timeout connect 30s',
      'timeout server 30s',
      'retries 3',
      'timeout check 10s',
      'option httpchk',
      'http-check send meth GET uri /healthz',
      'cookie SERVERID insert indirect nocache',
      'server id-1 10.0.0.1:80 weight 1 check inter 30s fall 3 rise 3 cookie id-1',
      'server id-2 10.0.0.2:8080 weight 5 backup check inter 30s fall 3 rise 3 cookie id-2',
    ])
    // Libra's `mode operator` stats socket line is rejected by HAProxy 2.6; ours is not that.
    expect(config).not.toContain('mode operator')
  })

  it('TCP: source stickiness, tcplog, leastconn; no monitor: check inter 30s with default rise/fall', () => {
    const spec = specOf([{protocol: 'TCP', port: 443, algorithm: 'LEAST_CONNECTIONS', nodes: [{id: 3, address: '10.0.0.3', port: 443}]}])
    const config = renderConfig(buildDeviceView(spec, placement, options))
    expect(section(config, 'frontend tcp-in')).toContain('option tcplog')
    const backend = section(config, 'backend tcp-servers')
    expect(backend).toContain('balance leastconn')
    expect(backend).toContain('stick-table type ip size 200k expire 30m')
    expect(backend).toContain('stick on src')
    expect(backend).toContain('server id-3 10.0.0.3:443 weight 1 check inter 30s')
    expect(backend).not.toContain('option forwardfor')
  })

  it('GALERA runs as tcp-in/tcp-servers, without stickiness, one primary and backups', () => {
    const spec = specOf([
      {protocol: 'GALERA', port: 3306, nodes: [{id: 1, address: '10.0.0.1', port: 3306}, {id: 2, address: '10.0.0.2', port: 3306, backup: 'true'}]},
    ])
    const config = renderConfig(buildDeviceView(spec, placement, options))
    const backend = section(config, 'backend tcp-servers')
    expect(backend.some((line) => line.startsWith('stick'))).toBe(false)
    expect(backend).toContain('server id-2 10.0.0.2:3306 weight 1 backup check inter 30s')
  })

  it('an HTTP monitor on a TCP LB checks HTTP in tcp mode; a CONNECT monitor is a plain check', () => {
    const tcp = specOf([
      {protocol: 'TCP', port: 22, nodes: [{id: 1, address: '10.0.0.1', port: 22}], monitor: {type: 'HTTP', delay: 5, timeout: 2, attempts: 2, path: '/h'}},
    ])
    expect(section(renderConfig(buildDeviceView(tcp, placement, options)), 'backend tcp-servers')).toContain('option httpchk')
    const connect = specOf([{protocol: 'HTTP', nodes: [{id: 1, address: '10.0.0.1', port: 80}], monitor: {type: 'CONNECT', delay: 5, timeout: 2, attempts: 2}}])
    const backend = section(renderConfig(buildDeviceView(connect, placement, options)), 'backend http-servers')
    expect(backend).not.toContain('option httpchk')
    expect(backend).toContain('server id-1 10.0.0.1:80 weight 1 check inter 5s fall 2 rise 2 cookie id-1')
  })

  it('namespace mode binds the device address; IPv6 uses an ipv6 stick table', () => {
    const spec = specOf([{protocol: 'TCP', port: 22, nodes: [{id: 1, address: '2001:db8::10', port: 22}]}])
    const config = renderConfig(buildDeviceView(spec, {bindAddress: '2001:db8::5', deviceId: placement.deviceId}, options))
    expect(section(config, 'frontend tcp-in')).toContain('bind [2001:db8::5]:22')
    expect(section(config, 'backend tcp-servers')).toContain('stick-table type ipv6 size 200k expire 30m')
    expect(section(config, 'backend tcp-servers')).toContain('server id-1 [2001:db8::10]:22 weight 1 check inter 30s')
  })

  it('UUID node ids name servers id-<uuid>, and STATS maps them back', () => {
    const id = '6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c'
    const spec = specOf([{protocol: 'HTTP', nodes: [{id, address: '10.0.0.1', port: 80}]}])
    expect(renderConfig(buildDeviceView(spec, placement, options))).toContain(`server id-${id} 10.0.0.1:80`)
    expect(nodeIdOf(`id-${id}`)).toBe(id)
    expect(nodeIdOf('server7')).toBe('server7')
  })

  it('an empty device renders global and defaults only', () => {
    const config = renderConfig(buildDeviceView({loadBalancers: []}, placement, options))
    expect(config).not.toMatch(/^(frontend|backend) /m)
    expect(config).toMatch(/^global$/m)
  })
})
