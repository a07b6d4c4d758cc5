/**
 * The runtime-API client and the reload semantics the executor relies on, against a real
 * HAProxy 2.6 master-worker in a private namespace. The steps run in order on one HAProxy
 * and record what HAProxy 2.6 really does with the server-state file on reload.
 */
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Member, PoolGraph} from '../../../src/domain/types.js'
import {renderConfig} from '../../../src/haproxy/render.js'
import {
  reloadAndWait,
  sendCommand,
  setServerState,
  setServerWeight,
  showInfo,
  showProc,
  showServersState,
  showStat,
} from '../../../src/haproxy/runtime.js'
import {memberHealth} from '../../../src/domain/status.js'
import {EMPTY_SERVER_STATE, parseServersState, retainMatchingServerState, type ServerStat} from '../../../src/haproxy/stats.js'
import {buildPoolView, type RenderOptions} from '../../../src/haproxy/view.js'
import {isAlive} from '../../../src/host/proc.js'
import {POOL_ID, VIP_ID, memberId, sampleMember, sampleMonitor, samplePoolGraph} from '../../helpers/haproxy-factories.js'
import {
  createTestNamespace,
  curl,
  startHaproxy,
  startRecordingBackends,
  stopHaproxyRig,
  type RecordingBackends,
  type RunningHaproxy,
  type TestNamespace,
} from '../../helpers/haproxy-process.js'
import {tempDir} from '../../helpers/tmp.js'
import {waitFor} from '../../helpers/wait.js'

const M1 = memberId(1)
const M2 = memberId(2)
const M3 = memberId(3)
const M4 = memberId(4)

describe.skipIf(process.env.LBAAS_SKIP_INTEGRATION === '1')('HAProxy runtime API and reloads (real HAProxy 2.6)', () => {
  const dir = tempDir('lbt-haproxy-')
  const runDir = join(dir.path, 'run')
  const statsSocket = join(runDir, 'stats.sock')
  const stateFile = join(runDir, 'server-state')
  const configPath = join(runDir, 'haproxy.cfg')
  const options: RenderOptions = {
    statsSocket,
    serverStateFile: stateFile,
    maxconn: 500,
    user: 'haproxy',
    group: 'haproxy',
    hardStopAfter: '5s',
  }
  let namespace: TestNamespace | undefined
  let backends: RecordingBackends | undefined
  let haproxy: RunningHaproxy | undefined

  let members: Member[] = [
    sampleMember(1, {address: '127.0.0.1', protocol_port: 8081}),
    sampleMember(2, {address: '127.0.0.1', protocol_port: 8082}),
    sampleMember(3, {address: '::1', protocol_port: 8083}),
    sampleMember(4, {address: '127.0.0.1', protocol_port: 8089}), // nothing listens there
  ]
  let graph: PoolGraph
  const setGraph = (overrides: Parameters<typeof samplePoolGraph>[0] = {}): PoolGraph =>
    (graph = samplePoolGraph({
      vip: {address: '127.0.0.1', protocol_port: 8080, ...overrides.vip},
      members,
      monitors: [sampleMonitor(1, {delay: 1, timeout: 1, max_retries: 2})],
      ...(overrides.pool ? {pool: overrides.pool} : {}),
    }))
  const updateMember = (index: number, changes: Partial<Member>): void => {
    members = members.map((member) => (member.id === memberId(index) ? {...member, ...changes} : member))
  }

  async function servers(): Promise<Record<string, ServerStat>> {
    const stat = await showStat(statsSocket)
    return Object.fromEntries(stat.servers.filter((row) => row.backend === POOL_ID).map((row) => [row.name, row]))
  }

  /** The executor's reload: save state (trimmed to the new view), write the config, reload. */
  async function deploy(config: {retainState?: boolean; overrideOptions?: Partial<RenderOptions>} = {}) {
    const view = buildPoolView(graph, {...options, ...config.overrideOptions})
    const saved = await showServersState(statsSocket)
    writeFileSync(stateFile, config.retainState === false ? saved : retainMatchingServerState(saved, view), {mode: 0o600})
    writeFileSync(configPath, renderConfig(view), {mode: 0o600})
    return reloadAndWait(haproxy!.masterSocket, {statsSocket})
  }

  beforeAll(async () => {
    mkdirSync(runDir, {mode: 0o700})
    chmodSync(dir.path, 0o700)
    namespace = await createTestNamespace()
    backends = await startRecordingBackends(
      namespace,
      [
        {name: 'a', host: '127.0.0.1', port: 8081},
        {name: 'b', host: '127.0.0.1', port: 8082},
        {name: 'c', host: '::1', port: 8083},
        {name: 'd', host: '127.0.0.1', port: 8084},
      ],
      'lbaas-test',
    )
    setGraph()
    writeFileSync(stateFile, EMPTY_SERVER_STATE, {mode: 0o600})
    writeFileSync(configPath, renderConfig(buildPoolView(graph, options)), {mode: 0o600})
    haproxy = await startHaproxy(namespace, runDir, configPath)
  })

  afterAll(() => stopHaproxyRig({haproxy, backends, namespace, dir}))

  it('starts as master + one worker; show info and show stat come from that worker', async () => {
    const proc = await showProc(haproxy!.masterSocket)
    expect(proc.master.pid).toBe(haproxy!.masterPid)
    expect(proc.master.failed_reloads).toBe(0)
    expect(proc.workers).toHaveLength(1)
    expect((await showInfo(statsSocket)).pid).toBe(proc.workers[0].pid)
    const statuses = await waitFor('the checks to settle', async () => {
      const rows = await servers()
      const settled = [M1, M2, M3].every((id) => rows[id]?.status === 'UP') && rows[M4]?.status === 'DOWN'
      return settled ? rows : undefined
    })
    expect(statuses[M1]).toMatchObject({check_status: 'L7OK', check_code: '200', address: '127.0.0.1:8081'})
    expect(statuses[M3].address).toBe('[::1]:8083')
    expect(statuses[M4].check_status).toBe('L4CON')
    expect(memberHealth(statuses[M4].status)).toEqual({status: 'INACTIVE', operating_status: 'OFFLINE'})
  })

  it('show stat counts traffic through the VIP in the backend totals', async () => {
    const before = (await showStat(statsSocket)).backends.find((backend) => backend.name === POOL_ID)!
    const bodies: string[] = []
    for (let i = 0; i < 6; i++) {
      const response = await curl(namespace!, 'http://127.0.0.1:8080/')
      expect(response.status).toBe(200)
      bodies.push(response.body)
    }
    expect(new Set(bodies)).toEqual(new Set(['a', 'b', 'c']))
    const after = (await showStat(statsSocket)).backends.find((backend) => backend.name === POOL_ID)!
    expect(after.total_connections - before.total_connections).toBe(6)
    expect(after.bytes_in).toBeGreaterThan(before.bytes_in)
    expect(after.bytes_out).toBeGreaterThan(before.bytes_out)
  })

  it('the log ring holds HTTP log lines, readable with `show events lbaas-log`', async () => {
    const events = await sendCommand(statsSocket, 'show events lbaas-log')
    expect(events).toContain(`${VIP_ID} ${POOL_ID}/`)
    expect(events).toContain('"GET / HTTP/1.1"')
  })

  it('setServerWeight and setServerState take effect at once', async () => {
    await setServerWeight(statsSocket, POOL_ID, M1, 5)
    await setServerState(statsSocket, POOL_ID, M2, 'drain')
    let rows = await servers()
    expect(rows[M1].weight).toBe(5)
    expect(rows[M2].status).toBe('DRAIN')
    await setServerState(statsSocket, POOL_ID, M2, 'maint')
    rows = await servers()
    expect(rows[M2].status).toBe('MAINT')
    await setServerState(statsSocket, POOL_ID, M2, 'ready')
    await waitFor('m2 to be UP again', async () => ((await servers())[M2].status === 'UP' ? true : undefined))
    await setServerState(statsSocket, POOL_ID, M2, 'maint')
  })

  it('a failed set command is a typed refusal', async () => {
    await expect(setServerWeight(statsSocket, POOL_ID, 'no-such-member', 1)).rejects.toMatchObject({code: 'haproxy_runtime_refused'})
  })

  it('reload with the saved state and an unchanged config keeps runtime weight, runtime maint and DOWN health', async () => {
    const saved = await showServersState(statsSocket)
    const retained = parseServersState(retainMatchingServerState(saved, buildPoolView(graph, options)))
    expect(retained.servers.map((row) => `${row.srv_name} ${row.srv_addr} ${row.srv_port}`)).toEqual([
      `${M1} 127.0.0.1 8081`,
      `${M2} 127.0.0.1 8082`,
      `${M3} ::1 8083`,
      `${M4} 127.0.0.1 8089`,
    ])
    const outcome = await deploy()
    expect(outcome.ok).toBe(true)
    expect(outcome.after.workers[0].pid).not.toBe(outcome.before.workers[0].pid)
    const rows = await servers()
    expect(rows[M1].weight).toBe(5) // runtime weight survives when the config weight did not change
    expect(rows[M2].status).toBe('MAINT') // runtime maint (0x01) survives an unchanged config
    expect(rows[M4].status).toBe('DOWN') // health comes from the file: no "UP until fall checks fail" window
  })

  it('a weight or admin state changed in the config wins over the saved runtime state', async () => {
    updateMember(1, {weight: 3}) // was 1 in the config, 5 at runtime
    updateMember(2, {admin_state_up: false}) // config now says `disabled` as well
    updateMember(3, {admin_state_up: false}) // config only, no runtime call
    setGraph()
    expect((await deploy()).ok).toBe(true)
    const rows = await servers()
    expect(rows[M1].weight).toBe(3)
    expect(rows[M2].status).toBe('MAINT')
    expect(rows[M3].status).toBe('MAINT')
  })

  it('admin up in the config brings a config-disabled server back, even when it was also put in maint at runtime', async () => {
    updateMember(2, {admin_state_up: true}) // maint at runtime and `disabled` in the old config
    updateMember(3, {admin_state_up: true}) // `disabled` in the old config only
    setGraph()
    expect((await deploy()).ok).toBe(true)
    await waitFor('m2 and m3 to be UP', async () => {
      const rows = await servers()
      return rows[M2].status === 'UP' && rows[M3].status === 'UP' ? true : undefined
    })
  })

  it('runtime maint with an unchanged config survives reloads until set ready', async () => {
    await setServerState(statsSocket, POOL_ID, M1, 'maint')
    expect((await deploy()).ok).toBe(true)
    expect((await servers())[M1].status).toBe('MAINT')
    await setServerState(statsSocket, POOL_ID, M1, 'ready')
    await waitFor('m1 to be UP', async () => ((await servers())[M1].status === 'UP' ? true : undefined))
  })

  it('HAProxy 2.6 keeps the saved port of a server whose port changed; retainMatchingServerState prevents it', async () => {
    updateMember(2, {protocol_port: 8084})
    setGraph()
    expect((await deploy({retainState: false})).ok).toBe(true)
    expect((await servers())[M2].address).toBe('127.0.0.1:8082') // the state file's port won over the config
    expect((await deploy()).ok).toBe(true)
    expect((await servers())[M2].address).toBe('127.0.0.1:8084')
  })

  it('an admin-down pool answers 503 and an admin-down VIP closes the port, and HAProxy keeps running', async () => {
    setGraph({pool: {admin_state_up: false}})
    expect((await deploy()).ok).toBe(true)
    expect((await curl(namespace!, 'http://127.0.0.1:8080/')).status).toBe(503)
    setGraph({pool: {admin_state_up: false}, vip: {admin_state_up: false}})
    expect((await deploy()).ok).toBe(true)
    expect((await curl(namespace!, 'http://127.0.0.1:8080/')).status).toBe(0) // connection refused
    expect((await showStat(statsSocket)).frontends.map((frontend) => frontend.name)).not.toContain(VIP_ID)
    setGraph()
    expect((await deploy()).ok).toBe(true)
    expect((await curl(namespace!, 'http://127.0.0.1:8080/')).status).toBe(200)
  })

  it('SOURCE_IP (balance source) refuses runtime weights other than 0% and 100%: such changes need a reload', async () => {
    setGraph({pool: {lb_method: 'SOURCE_IP'}})
    expect((await deploy()).ok).toBe(true)
    await expect(setServerWeight(statsSocket, POOL_ID, M1, 2)).rejects.toMatchObject({code: 'haproxy_runtime_refused'})
    setGraph()
    expect((await deploy()).ok).toBe(true)
  })

  it('a rejected configuration fails the reload, the old worker keeps serving, and the next good reload clears the count', async () => {
    const before = await showProc(haproxy!.masterSocket)
    writeFileSync(configPath, `${renderConfig(buildPoolView(graph, options))}    no-such-directive here\n`)
    const failed = await reloadAndWait(haproxy!.masterSocket)
    expect(failed.ok).toBe(false)
    expect(failed.after.master.failed_reloads).toBe(1)
    expect(failed.after.workers.map((worker) => worker.pid)).toEqual(before.workers.map((worker) => worker.pid))
    expect((await curl(namespace!, 'http://127.0.0.1:8080/')).status).toBe(200)
    expect((await showInfo(statsSocket)).pid).toBe(before.workers[0].pid)

    const good = await deploy()
    expect(good.ok).toBe(true)
    expect(good.after.master.failed_reloads).toBe(0)
  })

  it('a configuration that passes -c but cannot start (maxconn above the fd limit) also fails the reload', async () => {
    const before = await showProc(haproxy!.masterSocket)
    const outcome = await deploy({overrideOptions: {maxconn: 50_000}})
    expect(outcome.ok).toBe(false)
    expect(outcome.after.workers.map((worker) => worker.pid)).toEqual(before.workers.map((worker) => worker.pid))
    expect((await curl(namespace!, 'http://127.0.0.1:8080/')).status).toBe(200)
    expect((await deploy()).ok).toBe(true)
  })

  it('old workers leave after the reload (they have no connections left)', async () => {
    const proc = await showProc(haproxy!.masterSocket)
    await waitFor('old workers to exit', async () => {
      const current = await showProc(haproxy!.masterSocket)
      return current.old_workers.length === 0 ? true : undefined
    })
    expect(proc.workers).toHaveLength(1)
    expect(isAlive(proc.workers[0].pid)).toBe(true)
  })
})
