/**
 * Values that pass validation but need escaping reach HAProxy 2.6 exactly: a monitor path
 * with `#`, quotes, a backslash and `$`; an APP_COOKIE name with `'`, `#` and `$` (parsed
 * twice by HAProxy); a run directory with a space and `#`.
 */
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {renderConfig} from '../../../src/haproxy/render.js'
import {sendCommand, showStat} from '../../../src/haproxy/runtime.js'
import {EMPTY_SERVER_STATE} from '../../../src/haproxy/stats.js'
import {buildPoolView} from '../../../src/haproxy/view.js'
import {POOL_ID, sampleMember, sampleMonitor, samplePoolGraph} from '../../helpers/haproxy-factories.js'
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

const CHECK_PATH = `/health#check?a='b'&c="d"\\e$HOME{x}`
const COOKIE = "s'id#1$x`|~"

describe.skipIf(process.env.LBAAS_SKIP_INTEGRATION === '1')('escaped values reach HAProxy exactly (real HAProxy 2.6)', () => {
  const dir = tempDir('lbt-escape-')
  const runDir = join(dir.path, 'run dir #1')
  let namespace: TestNamespace | undefined
  let backends: RecordingBackends | undefined
  let haproxy: RunningHaproxy | undefined
  const statsSocket = join(runDir, 'stats.sock')

  beforeAll(async () => {
    chmodSync(dir.path, 0o700)
    mkdirSync(runDir, {mode: 0o700})
    namespace = await createTestNamespace()
    backends = await startRecordingBackends(
      namespace,
      [
        {name: 'a', host: '127.0.0.1', port: 8081},
        {name: 'b', host: '127.0.0.1', port: 8082},
      ],
      COOKIE,
    )
    const graph = samplePoolGraph({
      vip: {address: '127.0.0.1', protocol_port: 8080, session_persistence: {type: 'APP_COOKIE', cookie_name: COOKIE}},
      members: [sampleMember(1, {address: '127.0.0.1', protocol_port: 8081}), sampleMember(2, {address: '127.0.0.1', protocol_port: 8082})],
      monitors: [sampleMonitor(1, {delay: 1, timeout: 1, max_retries: 1, url_path: CHECK_PATH})],
    })
    const stateFile = join(runDir, 'server-state')
    writeFileSync(stateFile, EMPTY_SERVER_STATE, {mode: 0o600})
    const configPath = join(runDir, 'haproxy.cfg')
    const view = buildPoolView(graph, {statsSocket, serverStateFile: stateFile, maxconn: 200, user: 'haproxy', group: 'haproxy', hardStopAfter: '5s'})
    writeFileSync(configPath, renderConfig(view), {mode: 0o600})
    haproxy = await startHaproxy(namespace, runDir, configPath)
  })

  afterAll(() => stopHaproxyRig({haproxy, backends, namespace, dir}))

  it('the stats socket lives at the escaped path', async () => {
    expect((await showStat(statsSocket)).backends.map((backend) => backend.name)).toContain(POOL_ID)
  })

  it('health checks request exactly the configured path ($HOME not expanded, # not a comment)', async () => {
    const check = await waitFor('a health check to arrive', () =>
      backends!.records().find((record) => record.requestLine.startsWith('GET /health')),
    )
    expect(check.requestLine).toBe(`GET ${CHECK_PATH} HTTP/1.0`)
  })

  it('the APP_COOKIE stick table learns and matches the exact cookie name', async () => {
    await waitFor('both members to be UP', async () => {
      const servers = (await showStat(statsSocket)).servers
      return servers.length === 2 && servers.every((server) => server.status === 'UP') ? true : undefined
    })
    const learned = new Set<string>()
    for (let i = 0; i < 4; i++) learned.add((await curl(namespace!, 'http://127.0.0.1:8080/')).body)
    expect(learned).toEqual(new Set(['a', 'b']))
    const table = await sendCommand(statsSocket, `show table ${POOL_ID}`)
    expect(table).toMatch(/key=a /)
    expect(table).toMatch(/key=b /)

    for (const member of ['a', 'b']) {
      for (let i = 0; i < 4; i++) {
        expect((await curl(namespace!, 'http://127.0.0.1:8080/', [`Cookie: ${COOKIE}=${member}`])).body).toBe(member)
      }
    }
  })
})
