/**
 * Every resource command, in this process against the noop executor (LBAAS_EXECUTOR=noop):
 * flags, output formats, errors off a terminal and exit codes (SPEC §2), without root. The
 * same commands against the real host are in test/integration/cli/.
 */
import {afterAll, describe, expect, it} from 'vitest'

import MemberCreate from '../../../commands/member/create.js'
import MemberDelete from '../../../commands/member/delete.js'
import MemberList from '../../../commands/member/list.js'
import MemberShow from '../../../commands/member/show.js'
import MemberUpdate from '../../../commands/member/update.js'
import MonitorAssociate from '../../../commands/monitor/associate.js'
import MonitorCreate from '../../../commands/monitor/create.js'
import MonitorDelete from '../../../commands/monitor/delete.js'
import MonitorDisassociate from '../../../commands/monitor/disassociate.js'
import MonitorList from '../../../commands/monitor/list.js'
import MonitorShow from '../../../commands/monitor/show.js'
import MonitorUpdate from '../../../commands/monitor/update.js'
import PoolCreate from '../../../commands/pool/create.js'
import PoolDelete from '../../../commands/pool/delete.js'
import PoolList from '../../../commands/pool/list.js'
import PoolShow from '../../../commands/pool/show.js'
import PoolStats from '../../../commands/pool/stats.js'
import PoolUpdate from '../../../commands/pool/update.js'
import SubnetCreate from '../../../commands/subnet/create.js'
import SubnetDelete from '../../../commands/subnet/delete.js'
import SubnetList from '../../../commands/subnet/list.js'
import SubnetShow from '../../../commands/subnet/show.js'
import VipCreate from '../../../commands/vip/create.js'
import VipDelete from '../../../commands/vip/delete.js'
import VipList from '../../../commands/vip/list.js'
import VipShow from '../../../commands/vip/show.js'
import VipUpdate from '../../../commands/vip/update.js'
import {runInProcess} from '../../helpers/in-process.js'
import {tempDir} from '../../helpers/tmp.js'

const dir = tempDir('lbaas-inproc-')
const env = {LBAAS_STATE: `${dir.path}/state.db`, LBAAS_RUN_DIR: `${dir.path}/run`}
const run = (command: Parameters<typeof runInProcess>[0], argv: string[]) => runInProcess(command, argv, env)
const json = async <T = Record<string, unknown>>(command: Parameters<typeof runInProcess>[0], argv: string[]): Promise<T> => {
  const result = await run(command, [...argv, '--json'])
  expect(result.exitCode, result.stderr + result.stdout).toBe(0)
  return JSON.parse(result.stdout) as T
}
const errorOf = (stdout: string) => (JSON.parse(stdout) as {error: {code: string; exit: number}}).error

afterAll(() => dir.cleanup())

describe('commands in process on the noop executor', () => {
  const ids: Record<string, string> = {}

  it('creates a subnet and prints it as a Field/Value table, as value and as JSON', async () => {
    const table = await run(SubnetCreate, ['lab', '--cidr', '198.18.0.0/24'])
    expect(table.exitCode).toBe(0)
    expect(table.stdout).toMatch(/Field\s+│\s+Value/)
    expect((await run(SubnetShow, ['lab', '-f', 'value', '-c', 'cidr'])).stdout.trim()).toBe('198.18.0.0/24')
    expect(await json(SubnetList, [])).toMatchObject([{name: 'lab', cidr: '198.18.0.0/24', managed: true}])
  })

  it('creates a pool and two members; lists filter and choose columns', async () => {
    ids.pool = (await run(PoolCreate, ['--name', 'web', '--subnet', 'lab', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '-f', 'value', '-c', 'id'])).stdout.trim()
    expect(ids.pool).toMatch(/^[0-9a-f-]{36}$/)
    for (const host of ['11', '12']) {
      expect(await json(MemberCreate, ['web', '--address', `198.18.0.${host}`, '--protocol-port', '8000'])).toMatchObject({status: 'ACTIVE', weight: 1})
    }
    const members = await json<{id: string; address: string}[]>(MemberList, ['--pool', 'web'])
    expect(members.map((member) => member.address).sort()).toEqual(['198.18.0.11', '198.18.0.12'])
    ids.member = members[0].id
    expect((await run(PoolList, ['-f', 'csv', '-c', 'name', '-c', 'protocol'])).stdout).toBe('name,protocol\nweb,HTTP\n')
    expect((await run(MemberShow, [ids.member, '-f', 'yaml'])).stdout).toMatch(/^protocol_port: 8000$/m)
  })

  it('updates a member and a pool', async () => {
    expect(await json(MemberUpdate, [ids.member, '--weight', '5'])).toMatchObject({weight: 5})
    expect(await json(PoolUpdate, ['web', '--lb-method', 'LEAST_CONNECTIONS'])).toMatchObject({lb_method: 'LEAST_CONNECTIONS'})
  })

  it('creates, associates, updates and shows a monitor', async () => {
    ids.monitor = (await json<{id: string}>(MonitorCreate, ['--type', 'HTTP', '--delay', '5', '--timeout', '2', '--max-retries', '3', '--url-path', '/healthz'])).id
    expect(await json(MonitorAssociate, [ids.monitor, 'web'])).toMatchObject({pools: [{pool_id: ids.pool, status: 'ACTIVE'}]})
    expect(await json(MonitorUpdate, [ids.monitor, '--delay', '10'])).toMatchObject({delay: 10})
    expect(await json(MonitorShow, [ids.monitor])).toMatchObject({type: 'HTTP', url_path: '/healthz'})
    expect(await json<unknown[]>(MonitorList, [])).toHaveLength(1)
  })

  it('creates a VIP: the pool is deployed (on the noop executor) and ACTIVE', async () => {
    const vip = await json(VipCreate, ['web', '--name', 'web-vip', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'lab'])
    expect(vip).toMatchObject({address: '198.18.0.2', status: 'ACTIVE'})
    expect(await json(PoolShow, ['web'])).toMatchObject({status: 'ACTIVE', vip_id: (vip as {id: string}).id})
    expect(await json(VipUpdate, ['web-vip', '--connection-limit', '100'])).toMatchObject({connection_limit: 100})
    expect(await json<unknown[]>(VipList, [])).toHaveLength(1)
    expect((await run(VipShow, ['web-vip', '-f', 'value', '-c', 'address'])).stdout.trim()).toBe('198.18.0.2')
  })

  it('pool stats answers with zero counters when nothing runs', async () => {
    expect(await json(PoolStats, ['web'])).toMatchObject({bytes_in: 0, bytes_out: 0})
  })

  it('exit codes: usage 2, conflict 4, not found 5, each with its --json error object', async () => {
    const missing = await run(PoolCreate, ['--name', 'api', '--json'])
    expect(missing.exitCode).toBe(2)
    expect(errorOf(missing.stdout).code).toMatch(/^missing_/)
    const invalid = await run(MemberCreate, ['web', '--address', 'not-an-ip', '--protocol-port', '80', '--json'])
    expect(invalid.exitCode).toBe(2)
    expect(errorOf(invalid.stdout).code).toBe('invalid_address')
    const inUse = await run(SubnetDelete, ['lab', '--yes', '--json'])
    expect(inUse.exitCode).toBe(4)
    const absent = await run(PoolShow, ['nope', '--json'])
    expect(absent.exitCode).toBe(5)
    expect(errorOf(absent.stdout)).toMatchObject({code: 'not_found', exit: 5})
    const unknownFlag = await run(PoolList, ['--bogus'])
    expect(unknownFlag.exitCode).toBe(2)
  })

  it('off a terminal a destructive command without --yes goes ahead (nothing prompts), and the rest deletes in order', async () => {
    expect((await run(MonitorDisassociate, [ids.monitor, 'web'])).exitCode).toBe(0)
    expect((await run(MonitorDelete, [ids.monitor, '--yes'])).exitCode).toBe(0)
    expect((await run(MemberDelete, [ids.member, '--yes'])).stdout).toMatch(/^Deleted member/)
    expect((await run(VipDelete, ['web-vip'])).exitCode).toBe(0)
    expect((await run(PoolDelete, ['web', '--yes'])).exitCode).toBe(0)
    expect((await run(SubnetDelete, ['lab', '--yes'])).exitCode).toBe(0)
    expect(await json(PoolList, [])).toEqual([])
  })
})
