/**
 * retainMatchingServerState with the running configuration file: the saved rows say the
 * file's weight and `disabled` as the configured ones (HAProxy compares them with the new
 * configuration to decide whether a runtime weight or maintenance survives the reload).
 * Found by the concurrency test: lbaas's runtime changes are in the file but not in the
 * weight HAProxy started with, so a weight set back to that start value in a reload that
 * carried other changes was lost.
 */
import {describe, expect, it} from 'vitest'

import {renderConfig} from '../../../src/haproxy/render.js'
import {parseServersState, retainMatchingServerState} from '../../../src/haproxy/stats.js'
import {buildPoolView} from '../../../src/haproxy/view.js'
import {memberId, POOL_ID, sampleMember, samplePoolGraph, sampleRenderOptions} from '../../helpers/haproxy-factories.js'

const header =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port'
const row = (index: number, admin: number, uweight: number, iweight: number) =>
  `3 ${POOL_ID} ${index} ${memberId(index)} 198.18.0.${20 + index} 2 ${admin} ${uweight} ${iweight} 5 15 3 4 6 0 0 0 - 8080 - 0 0 - - 0`

const configOf = (members: ReturnType<typeof sampleMember>[]) =>
  renderConfig(buildPoolView(samplePoolGraph({members}), sampleRenderOptions()))

describe('retainMatchingServerState with the running configuration', () => {
  // Started with weight 8 and member 2 up; then through the runtime API: weight 4, member 2 in maintenance.
  const saved = ['1', header, row(1, 0, 4, 8), row(2, 1, 1, 1), ''].join('\n')
  const running = configOf([sampleMember(1, {weight: 4}), sampleMember(2, {admin_state_up: false})])

  it('says the file weight and disabled as the configured ones, keeping what runs', () => {
    const next = buildPoolView(samplePoolGraph({members: [sampleMember(1, {weight: 8}), sampleMember(2)]}), sampleRenderOptions())
    const rows = parseServersState(retainMatchingServerState(saved, next, running)).servers
    expect(rows.map((server) => [server.srv_name, server.srv_admin_state, server.srv_uweight, server.srv_iweight])).toEqual([
      [memberId(1), 0, 4, 4], // the new weight 8 differs from the file's 4: HAProxy takes 8
      [memberId(2), 0x01 | 0x04, 1, 1], // `disabled` in the file, not in the new config: HAProxy brings it up
    ])
    // Every other column is as saved.
    const cells = (text: string) => text.split('\n')[2].split(' ').filter((_, index) => index !== 6 && index !== 8)
    expect(cells(retainMatchingServerState(saved, next, running))).toEqual(cells(saved))
  })

  it('without the running configuration the rows are kept as saved', () => {
    const next = buildPoolView(samplePoolGraph({members: [sampleMember(1), sampleMember(2)]}), sampleRenderOptions())
    expect(retainMatchingServerState(saved, next)).toBe(saved)
    expect(retainMatchingServerState(saved, next, null)).toBe(saved)
  })

  it('a server the running file does not have keeps its saved row', () => {
    const next = buildPoolView(samplePoolGraph({members: [sampleMember(1), sampleMember(2)]}), sampleRenderOptions())
    const onlyFirst = configOf([sampleMember(1, {weight: 4})])
    const rows = parseServersState(retainMatchingServerState(saved, next, onlyFirst)).servers
    expect(rows[1]).toMatchObject({srv_admin_state: 1, srv_uweight: 1, srv_iweight: 1})
  })

  it('clears the config-maintenance bit when the file has the server enabled, keeping drain', () => {
    const drained = ['1', header, row(1, 0x04 | 0x08, 0, 0), ''].join('\n')
    const next = buildPoolView(samplePoolGraph({members: [sampleMember(1, {weight: 0})]}), sampleRenderOptions())
    const rows = parseServersState(retainMatchingServerState(drained, next, configOf([sampleMember(1, {weight: 0})]))).servers
    expect(rows[0]).toMatchObject({srv_admin_state: 0x08, srv_iweight: 0})
  })
})
