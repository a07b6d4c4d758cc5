import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {memberHealth} from '../../../src/domain/status.js'
import {
  EMPTY_SERVER_STATE,
  parseServersState,
  parseShowInfo,
  parseShowProc,
  parseShowStat,
  retainMatchingServerState,
  SERVER_ADMIN_CONFIG_MAINT,
  SERVER_ADMIN_FORCED_DRAIN,
  SERVER_ADMIN_FORCED_MAINT,
} from '../../../src/haproxy/stats.js'
import {buildPoolView} from '../../../src/haproxy/view.js'
import {POOL_ID, memberId, sampleMember, samplePoolGraph, sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {codeOf} from '../../helpers/errors.js'

// Captured from haproxy 2.6.12 (test/fixtures/haproxy/capture.cfg.txt): servers 1–7 are
// NOLB (health forced to stopping), DRAIN, MAINT (runtime), UP 1/3 (going down),
// DOWN, no check (weight 0, no check) and MAINT (`disabled` in the config).
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/haproxy/${name}`, import.meta.url), 'utf8')
const BACKEND = '0b0b0b0b-0000-4000-8000-000000000002'
const server = (index: number) => `5e000000-0000-4000-8000-00000000000${index}`

describe('parseShowStat', () => {
  const stat = parseShowStat(fixture('show-stat.txt'))

  it('splits frontends, backends and servers by type', () => {
    expect(stat.frontends.map((frontend) => frontend.name)).toEqual(['ok-target', '0f0e0d0c-0000-4000-8000-000000000001'])
    expect(stat.backends.map((backend) => backend.name)).toEqual(['ok-target', BACKEND])
    expect(stat.servers).toHaveLength(7)
  })

  it('reads backend totals by column name', () => {
    expect(stat.backends.find((backend) => backend.name === BACKEND)).toEqual({
      name: BACKEND,
      status: 'UP',
      bytes_in: 2460,
      bytes_out: 1632,
      active_connections: 0,
      total_connections: 30,
    })
  })

  it('reads per-server rows', () => {
    expect(stat.servers[0]).toMatchObject({
      backend: BACKEND,
      name: server(1),
      status: 'NOLB',
      check_status: 'L7OK',
      check_code: '200',
      weight: 7,
      total_connections: 27,
      bytes_in: 2214,
      bytes_out: 1323,
      address: '127.0.0.1:47311',
    })
    expect(stat.servers.map((row) => row.status)).toEqual(['NOLB', 'DRAIN', 'MAINT', 'UP 1/3', 'DOWN', 'no check', 'MAINT'])
    expect(stat.servers[4]).toMatchObject({check_status: 'L4CON', failed_checks: 1, down_transitions: 1})
    expect(stat.servers[5]).toMatchObject({check_status: '', failed_checks: 0, weight: 0})
  })

  it('reads a transitional DOWN 1/3 (recovering) status', () => {
    const recovering = parseShowStat(fixture('show-stat-recovering.txt'))
    expect(recovering.servers.find((row) => row.name === server(4))?.status).toBe('DOWN 1/3')
  })

  it('does not depend on column order', () => {
    const text = '# svname,pxname,type,status,bout,bin,stot,scur,\nS1,B1,2,UP,20,10,3,1,\nBACKEND,B1,1,UP,20,10,3,1,\n'
    const reordered = parseShowStat(text)
    expect(reordered.servers[0]).toMatchObject({backend: 'B1', name: 'S1', bytes_in: 10, bytes_out: 20, total_connections: 3, active_connections: 1})
    expect(reordered.backends[0]).toMatchObject({name: 'B1', bytes_in: 10})
  })

  it('refuses text without the CSV header', () => {
    expect(codeOf(() => parseShowStat('Unknown command.\n'))).toBe('haproxy_output')
    expect(codeOf(() => parseShowStat('# pxname,svname\n'))).toBe('haproxy_output')
  })
})

describe('captured server statuses', () => {
  it('maps every status of the captured output', () => {
    const statuses = parseShowStat(fixture('show-stat.txt')).servers.map((row) => memberHealth(row.status).operating_status)
    expect(statuses).toEqual(['DRAINING', 'DRAINING', 'OFFLINE', 'ONLINE', 'OFFLINE', 'NO_MONITOR', 'OFFLINE'])
  })
})

describe('parseServersState', () => {
  const state = parseServersState(fixture('show-servers-state.txt'))

  it('reads version 1 rows by header name', () => {
    expect(state.version).toBe(1)
    expect(state.columns).toContain('srv_admin_state')
    expect(state.servers).toHaveLength(7)
    expect(state.servers[0]).toMatchObject({
      be_id: 4,
      be_name: BACKEND,
      srv_id: 1,
      srv_name: server(1),
      srv_addr: '127.0.0.1',
      srv_op_state: 3,
      srv_admin_state: 0,
      srv_uweight: 7,
      srv_iweight: 1,
      srv_port: 47311,
    })
    expect(state.servers[0].fields.srv_fqdn).toBe('-')
  })

  it('shows runtime drain, runtime maint, and config maint as admin-state bits', () => {
    expect(state.servers[1].srv_admin_state).toBe(SERVER_ADMIN_FORCED_DRAIN)
    expect(state.servers[2].srv_admin_state).toBe(SERVER_ADMIN_FORCED_MAINT)
    expect(state.servers[6].srv_admin_state).toBe(SERVER_ADMIN_FORCED_MAINT | SERVER_ADMIN_CONFIG_MAINT)
  })

  it('accepts the empty state file and refuses other versions', () => {
    expect(parseServersState(EMPTY_SERVER_STATE).servers).toEqual([])
    expect(codeOf(() => parseServersState('2\n'))).toBe('haproxy_output')
    expect(codeOf(() => parseServersState(''))).toBe('haproxy_output')
  })
})

describe('retainMatchingServerState', () => {
  const header =
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port'
  const row = (backend: string, name: string, address: string, port: number) =>
    `3 ${backend} 1 ${name} ${address} 0 1 1 1 5 8 2 0 6 0 0 0 - ${port} - 0 0 - - 0`
  const view = buildPoolView(
    samplePoolGraph({members: [sampleMember(1), sampleMember(2), sampleMember(3, {address: '2001:db8::3'})]}),
    sampleRenderOptions(),
  )

  it('keeps servers whose backend, name, address and port are unchanged', () => {
    const saved = ['1', header, row(POOL_ID, memberId(1), '198.18.0.21', 8080), row(POOL_ID, memberId(3), '2001:db8::3', 8080), ''].join('\n')
    expect(retainMatchingServerState(saved, view)).toBe(saved)
  })

  it('drops servers that moved, changed address or port (HAProxy would keep the old port), or are gone', () => {
    const saved = [
      '1',
      header,
      row(POOL_ID, memberId(1), '198.18.0.21', 8080),
      row(POOL_ID, memberId(2), '198.18.0.22', 9090),
      row(POOL_ID, memberId(3), '2001:db8::4', 8080),
      row('other-backend', memberId(1), '198.18.0.21', 8080),
      row(POOL_ID, memberId(9), '198.18.0.29', 8080),
      '',
    ].join('\n')
    expect(retainMatchingServerState(saved, view)).toBe(['1', header, row(POOL_ID, memberId(1), '198.18.0.21', 8080), ''].join('\n'))
  })

  it('gives the empty state for anything that is not a version-1 dump', () => {
    expect(retainMatchingServerState('', view)).toBe(EMPTY_SERVER_STATE)
    expect(retainMatchingServerState('Unknown command\n', view)).toBe(EMPTY_SERVER_STATE)
  })
})

describe('parseShowInfo', () => {
  it('reads the process fields', () => {
    const info = parseShowInfo(fixture('show-info.txt'))
    expect(info).toMatchObject({
      pid: 5179,
      version: '2.6.12-1+deb12u4',
      uptime_seconds: 22,
      maxconn: 500,
      current_connections: 2,
      cumulative_connections: 387,
    })
    expect(info.fields.Nbthread).toBe('2')
  })

  it('refuses text without a Pid line', () => {
    expect(codeOf(() => parseShowInfo('Unknown command.\n'))).toBe('haproxy_output')
  })
})

describe('parseShowProc', () => {
  it('reads the master, current and old workers', () => {
    expect(parseShowProc(fixture('show-proc-old-worker.txt'))).toEqual({
      master: {pid: 5178, reloads: 1, failed_reloads: 0, uptime: '0d00h00m28s', version: '2.6.12-1+deb12u4'},
      workers: [{pid: 6546, reloads: 0, uptime: '0d00h00m01s', version: '2.6.12-1+deb12u4'}],
      old_workers: [{pid: 5179, reloads: 1, uptime: '0d00h00m28s', version: '2.6.12-1+deb12u4'}],
    })
  })

  it('reads the failed-reload count after a rejected configuration', () => {
    const proc = parseShowProc(fixture('show-proc-failed.txt'))
    expect(proc.master).toMatchObject({reloads: 2, failed_reloads: 1})
    expect(proc.workers.map((worker) => worker.pid)).toEqual([6546])
  })

  it('refuses text without a master line', () => {
    expect(codeOf(() => parseShowProc('Unknown command.\n'))).toBe('haproxy_output')
  })
})
