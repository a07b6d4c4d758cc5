/**
 * Every validation rule fed through the real CLI: the exit code, the error code of the
 * `--json` error object, and a state file that is byte-for-byte unchanged.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {cliFor, errorOf} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr} from '../../helpers/unique.js'

const dir = tempDir('lbaas-badinput-')
const cli = cliFor(dir.path)
const cidr = claimTestCidr()
const spare = claimTestCidr()
let memberId = ''
let monitorId = ''
let associatedMonitorId = ''

beforeAll(async () => {
  await cli.value(['subnet', 'create', 'lab', '--cidr', cidr.cidr])
  await cli.value(['pool', 'create', '--name', 'web', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'])
  await cli.value(['pool', 'create', '--name', 'twin', '--subnet', 'lab', '--protocol', 'TCP', '--lb-method', 'ROUND_ROBIN'])
  await cli.value(['pool', 'create', '--name', 'twin', '--subnet', 'lab', '--protocol', 'TCP', '--lb-method', 'SOURCE_IP'])
  await cli.value(['pool', 'create', '--name', 'tcp-pool', '--subnet', 'lab', '--protocol', 'TCP', '--lb-method', 'ROUND_ROBIN'])
  await cli.value(['pool', 'create', '--name', 'spare', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'])
  memberId = await cli.value(['member', 'create', 'web', '--address', `${cidr.base}.11`, '--protocol-port', '8000', '-f', 'value', '-c', 'id'])
  monitorId = await cli.value(['monitor', 'create', '--type', 'TCP', '--delay', '5', '--timeout', '3', '--max-retries', '2', '-f', 'value', '-c', 'id'])
  associatedMonitorId = await cli.value(['monitor', 'create', '--type', 'HTTP', '--delay', '5', '--timeout', '3', '--max-retries', '2', '-f', 'value', '-c', 'id'])
  await cli.value(['monitor', 'associate', associatedMonitorId, 'web'])
  await cli.value(['vip', 'create', 'web', '--name', 'web-vip', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--address', `${cidr.base}.100`])
})

afterAll(async () => {
  try {
    await cli.run(['vip', 'delete', 'web-vip', '--yes'])
    for (const pool of ['web', 'spare', 'tcp-pool']) await cli.run(['pool', 'delete', pool, '--yes'])
    const twins = (await cli.value(['pool', 'list', '-f', 'value', '-c', 'id'])).split('\n').filter(Boolean)
    for (const id of twins) await cli.run(['pool', 'delete', id, '--yes'])
    await cli.run(['subnet', 'delete', 'lab', '--yes'])
  } finally {
    cidr.release()
    spare.release()
    dir.cleanup()
  }
})

type Case = [description: string, args: () => string[], code: string, exit: number]

const HOSTILE_NAMES: [string, string][] = [
  ['newline', 'web\nserver evil 192.0.2.66:80'],
  ['carriage return', 'a\rb'],
  ['tab', 'a\tb'],
  ['escape sequence', 'a\u001B[31mred'],
  ['C1 control', 'a\u0085b'],
  ['256 characters', 'x'.repeat(256)],
  ['an id', '0b8f3f6e-8a4f-4c55-9d1e-2c9f4b1f8a10'],
  ['empty', ''],
]

const cases: Case[] = [
  // subnet
  ...HOSTILE_NAMES.map(([label, name]): Case => [`subnet name: ${label}`, () => ['subnet', 'create', name, '--cidr', spare.cidr], 'invalid_name', 2]),
  ['subnet name: space', () => ['subnet', 'create', 'a b', '--cidr', spare.cidr], 'invalid_name', 2],
  ['subnet name: shell metacharacters', () => ['subnet', 'create', '$(reboot);`x`', '--cidr', spare.cidr], 'invalid_name', 2],
  ['subnet name: #', () => ['subnet', 'create', 'a#b', '--cidr', spare.cidr], 'invalid_name', 2],
  ['subnet name: unicode', () => ['subnet', 'create', 'ünï', '--cidr', spare.cidr], 'invalid_name', 2],
  ['subnet name: 65 characters', () => ['subnet', 'create', 'x'.repeat(65), '--cidr', spare.cidr], 'invalid_name', 2],
  ['subnet cidr: not a network', () => ['subnet', 'create', 'n', '--cidr', 'nope'], 'invalid_cidr', 2],
  ['subnet cidr: host bits', () => ['subnet', 'create', 'n', '--cidr', `${spare.base}.5/24`], 'invalid_cidr', 2],
  ['subnet cidr: too small', () => ['subnet', 'create', 'n', '--cidr', `${spare.base}.0/31`], 'invalid_cidr', 2],
  ['subnet cidr: newline', () => ['subnet', 'create', 'n', '--cidr', `${spare.cidr}\n`], 'invalid_cidr', 2],
  ['subnet gateway: outside', () => ['subnet', 'create', 'n', '--cidr', spare.cidr, '--gateway', `${cidr.base}.1`], 'invalid_gateway_ip', 2],
  ['subnet gateway: broadcast', () => ['subnet', 'create', 'n', '--cidr', spare.cidr, '--gateway', `${spare.base}.255`], 'invalid_gateway_ip', 2],
  ['subnet bridge: 16 characters', () => ['subnet', 'create', 'n', '--cidr', spare.cidr, '--bridge', 'b'.repeat(16)], 'invalid_bridge', 2],
  ['subnet bridge: slash', () => ['subnet', 'create', 'n', '--cidr', spare.cidr, '--bridge', 'a/b'], 'invalid_bridge', 2],
  ['subnet bridge: reserved prefix', () => ['subnet', 'create', 'n', '--cidr', spare.cidr, '--bridge', 'lbbr-12345678'], 'invalid_bridge', 2],
  ['subnet: duplicate name', () => ['subnet', 'create', 'lab', '--cidr', spare.cidr], 'duplicate_name', 4],
  ['subnet: overlapping cidr', () => ['subnet', 'create', 'n', '--cidr', cidr.cidr], 'overlapping_cidr', 4],
  ['subnet: missing cidr', () => ['subnet', 'create', 'n'], 'missing_cidr', 2],
  ['subnet delete: in use', () => ['subnet', 'delete', 'lab', '--yes'], 'in_use', 4],
  ['subnet show: unknown', () => ['subnet', 'show', 'nope'], 'not_found', 5],
  // pool
  ...HOSTILE_NAMES.map(([label, name]): Case => [
    `pool name: ${label}`,
    () => ['pool', 'create', '--name', name, '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'],
    'invalid_name',
    2,
  ]),
  ['pool description: newline', () => ['pool', 'create', '--name', 'p', '--description', 'a\nb', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'], 'invalid_description', 2],
  ['pool description: 256 characters', () => ['pool', 'create', '--name', 'p', '--description', 'd'.repeat(256), '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'], 'invalid_description', 2],
  ['pool protocol', () => ['pool', 'create', '--name', 'p', '--subnet', 'lab', '--protocol', 'UDP', '--lb-method', 'ROUND_ROBIN'], 'invalid_protocol', 2],
  ['pool lb-method', () => ['pool', 'create', '--name', 'p', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'RANDOM'], 'invalid_lb_method', 2],
  ['pool subnet: unknown', () => ['pool', 'create', '--name', 'p', '--subnet', 'nope', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'], 'not_found', 5],
  ['pool agent: unknown', () => ['pool', 'create', '--name', 'p', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--agent', 'nowhere'], 'invalid_agent', 2],
  ['pool: missing name off a TTY', () => ['pool', 'create', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'], 'missing_name', 2],
  ['pool: unknown flag', () => ['pool', 'create', '--name', 'p', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--colour', 'red'], 'usage_error', 2],
  ['pool update: nothing', () => ['pool', 'update', 'web'], 'invalid_update', 2],
  ['pool update: admin state', () => ['pool', 'update', 'web', '--admin-state-up', 'maybe'], 'invalid_admin_state_up', 2],
  ['pool update: ambiguous name', () => ['pool', 'update', 'twin', '--lb-method', 'SOURCE_IP'], 'ambiguous_name', 2],
  ['pool show: unknown', () => ['pool', 'show', 'nope'], 'not_found', 5],
  ['pool show: unknown id', () => ['pool', 'show', '0b8f3f6e-8a4f-4c55-9d1e-2c9f4b1f8a10'], 'not_found', 5],
  ['pool delete: VIP in use', () => ['pool', 'delete', 'web', '--yes'], 'in_use', 4],
  ['pool stats: unknown', () => ['pool', 'stats', 'nope'], 'not_found', 5],
  // member
  ['member address: not an address', () => ['member', 'create', 'web', '--address', 'host.example', '--protocol-port', '80'], 'invalid_address', 2],
  ['member address: injection', () => ['member', 'create', 'web', '--address', '198.18.0.1:80 backup', '--protocol-port', '80'], 'invalid_address', 2],
  ['member address: octal', () => ['member', 'create', 'web', '--address', '010.0.0.1', '--protocol-port', '80'], 'invalid_address', 2],
  ['member port: 0', () => ['member', 'create', 'web', '--address', `${cidr.base}.12`, '--protocol-port', '0'], 'invalid_protocol_port', 2],
  ['member port: 65536', () => ['member', 'create', 'web', '--address', `${cidr.base}.12`, '--protocol-port', '65536'], 'invalid_protocol_port', 2],
  ['member port: text', () => ['member', 'create', 'web', '--address', `${cidr.base}.12`, '--protocol-port', '80; reboot'], 'invalid_protocol_port', 2],
  ['member weight: 257', () => ['member', 'create', 'web', '--address', `${cidr.base}.12`, '--protocol-port', '80', '--weight', '257'], 'invalid_weight', 2],
  ['member weight: -1', () => ['member', 'create', 'web', '--address', `${cidr.base}.12`, '--protocol-port', '80', '--weight=-1'], 'invalid_weight', 2],
  ['member: duplicate', () => ['member', 'create', 'web', '--address', `${cidr.base}.11`, '--protocol-port', '8000'], 'duplicate_member', 4],
  ['member: duplicate in another spelling', () => ['member', 'create', 'web', '--address', `${cidr.base}.11`, '--protocol-port', '08000'], 'duplicate_member', 4],
  ['member: unknown pool', () => ['member', 'create', 'nope', '--address', `${cidr.base}.12`, '--protocol-port', '80'], 'not_found', 5],
  ['member: ambiguous pool', () => ['member', 'create', 'twin', '--address', `${cidr.base}.12`, '--protocol-port', '80'], 'ambiguous_name', 2],
  ['member: missing address', () => ['member', 'create', 'web', '--protocol-port', '80'], 'missing_address', 2],
  ['member update: nothing', () => ['member', 'update', memberId], 'invalid_update', 2],
  ['member update: weight', () => ['member', 'update', memberId, '--weight', 'heavy'], 'invalid_weight', 2],
  ['member update: unknown pool', () => ['member', 'update', memberId, '--pool', 'nope'], 'not_found', 5],
  ['member show: a name is not an id', () => ['member', 'show', 'web'], 'not_found', 5],
  ['member delete: unknown', () => ['member', 'delete', '0b8f3f6e-8a4f-4c55-9d1e-2c9f4b1f8a10', '--yes'], 'not_found', 5],
  // monitor
  ['monitor type', () => ['monitor', 'create', '--type', 'ICMP', '--delay', '5', '--timeout', '3', '--max-retries', '2'], 'invalid_type', 2],
  ['monitor delay: 0', () => ['monitor', 'create', '--type', 'TCP', '--delay', '0', '--timeout', '3', '--max-retries', '2'], 'invalid_delay', 2],
  ['monitor timeout: 0', () => ['monitor', 'create', '--type', 'TCP', '--delay', '5', '--timeout', '0', '--max-retries', '2'], 'invalid_timeout', 2],
  ['monitor timeout above delay', () => ['monitor', 'create', '--type', 'TCP', '--delay', '2', '--timeout', '3', '--max-retries', '2'], 'invalid_timeout', 2],
  ['monitor max-retries: 0', () => ['monitor', 'create', '--type', 'TCP', '--delay', '5', '--timeout', '3', '--max-retries', '0'], 'invalid_max_retries', 2],
  ['monitor max-retries: 11', () => ['monitor', 'create', '--type', 'TCP', '--delay', '5', '--timeout', '3', '--max-retries', '11'], 'invalid_max_retries', 2],
  ...['get', 'GET /x', 'G#T', 'X'.repeat(17), 'GET\nserver evil 192.0.2.66:80'].map((method): Case => [
    `monitor http-method: ${JSON.stringify(method)}`,
    () => ['monitor', 'create', '--type', 'HTTP', '--delay', '5', '--timeout', '3', '--max-retries', '2', '--http-method', method],
    'invalid_http_method',
    2,
  ]),
  ...['healthz', '/a b', '/a\n\tserver evil 192.0.2.66:80', '/\t', '/ünï', `/${'x'.repeat(255)}`].map((path): Case => [
    `monitor url-path: ${JSON.stringify(path.slice(0, 20))}`,
    () => ['monitor', 'create', '--type', 'HTTP', '--delay', '5', '--timeout', '3', '--max-retries', '2', '--url-path', path],
    'invalid_url_path',
    2,
  ]),
  ...['204-200', '2000', '200;201', '99', '600', '200,', '200\n', 'abc'].map((codes): Case => [
    `monitor expected-codes: ${JSON.stringify(codes)}`,
    () => ['monitor', 'create', '--type', 'HTTP', '--delay', '5', '--timeout', '3', '--max-retries', '2', '--expected-codes', codes],
    'invalid_expected_codes',
    2,
  ]),
  ['monitor update: timeout above stored delay', () => ['monitor', 'update', monitorId, '--timeout', '6'], 'invalid_timeout', 2],
  ['monitor update: nothing', () => ['monitor', 'update', monitorId], 'invalid_update', 2],
  ['monitor associate: twice', () => ['monitor', 'associate', associatedMonitorId, 'web'], 'already_associated', 4],
  ['monitor associate: unknown pool', () => ['monitor', 'associate', monitorId, 'nope'], 'not_found', 5],
  ['monitor disassociate: not associated', () => ['monitor', 'disassociate', monitorId, 'web'], 'not_found', 5],
  ['monitor delete: associated', () => ['monitor', 'delete', associatedMonitorId, '--yes'], 'in_use', 4],
  ['monitor show: unknown', () => ['monitor', 'show', 'nope'], 'not_found', 5],
  // vip
  ...HOSTILE_NAMES.map(([label, name]): Case => [
    `vip name: ${label}`,
    () => ['vip', 'create', 'spare', '--name', name, '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab'],
    'invalid_name',
    2,
  ]),
  ['vip protocol: mismatch', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'TCP', '--protocol-port', '80', '--subnet', 'lab'], 'invalid_protocol', 2],
  ['vip port: 0', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '0', '--subnet', 'lab'], 'invalid_protocol_port', 2],
  ['vip address: outside the subnet', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--address', `${spare.base}.5`], 'invalid_address', 2],
  ['vip address: the gateway', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--address', `${cidr.base}.1`], 'invalid_address', 2],
  ['vip address: the broadcast', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--address', `${cidr.base}.255`], 'invalid_address', 2],
  ['vip address: taken', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--address', `${cidr.base}.100`], 'address_in_use', 4],
  ['vip: second VIP of a pool', () => ['vip', 'create', 'web', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '81', '--subnet', 'lab'], 'vip_exists', 4],
  ...['0', '-2', '1000000', 'lots'].map((limit): Case => [
    `vip connection-limit: ${limit}`,
    () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', `--connection-limit=${limit}`],
    'invalid_connection_limit',
    2,
  ]),
  ['vip persistence: APP_COOKIE without a name', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--session-persistence', 'APP_COOKIE'], 'invalid_cookie_name', 2],
  ['vip persistence: cookie name with a space', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--session-persistence', 'APP_COOKIE:a b'], 'invalid_cookie_name', 2],
  ['vip persistence: cookie name with a newline', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--session-persistence', 'APP_COOKIE:a\nstick on src'], 'invalid_cookie_name', 2],
  ['vip persistence: cookie name for SOURCE_IP', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--session-persistence', 'SOURCE_IP:sid'], 'invalid_cookie_name', 2],
  ['vip persistence: unknown type', () => ['vip', 'create', 'spare', '--name', 'v', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab', '--session-persistence', 'STICKY'], 'invalid_session_persistence', 2],
  ['vip update: nothing', () => ['vip', 'update', 'web-vip'], 'invalid_update', 2],
  ['vip update: ambiguous pool', () => ['vip', 'update', 'web-vip', '--pool', 'twin'], 'ambiguous_name', 2],
  ['vip update: pool with another protocol', () => ['vip', 'update', 'web-vip', '--pool', 'tcp-pool'], 'invalid_protocol', 2],
  ['vip show: unknown', () => ['vip', 'show', 'nope'], 'not_found', 5],
  // output
  ['unknown column', () => ['pool', 'list', '-c', 'nope'], 'invalid_column', 2],
  ['unknown format', () => ['pool', 'list', '-f', 'xml'], 'usage_error', 2],
]

describe('bad input through the CLI changes nothing', () => {
  it.concurrent.each(cases)('%s', async (_description, args, code, exit) => {
    const before = cli.stateContent()
    const result = await cli.run([...args(), '--json'])
    expect({exit: result.exitCode, code: errorOf(result).code}).toEqual({exit, code})
    expect(errorOf(result).exit).toBe(exit)
    expect(cli.stateContent()).toBe(before)
  })

  it('prints a clear message and a hint on stderr without --json', async () => {
    const result = await cli.run(['member', 'create', 'web', '--address', `${cidr.base}.11`, '--protocol-port', '8000'])
    expect(result.exitCode).toBe(4)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^error: pool web already has a member at .* port 8000\nhint: /)
  })

  it('refuses an unusable state path with exit 1', async () => {
    const result = await cli.run(['pool', 'list', '--json'], {env: {LBAAS_STATE: '/proc/lbaas/state.db'}})
    expect(result.exitCode).toBe(1)
    expect(errorOf(result).code).toBe('state_unavailable')
  })
})
