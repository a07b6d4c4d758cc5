/**
 * safeMaxConn against a real HAProxy 2.6 started the way the executor starts it
 * (master-worker, stats and master sockets, checked servers), under this process's
 * open-files hard limit; and the doctor probes on this host.
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'
import {checkKernelFeatures, readFdLimit, safeMaxConn} from '../../../src/host/limits.js'
import {listNamespaces} from '../../../src/host/netns.js'
import {isAlive, readPidFile, terminate} from '../../../src/host/proc.js'
import {run} from '../../../src/host/run.js'
import {tempDir} from '../../helpers/tmp.js'
import {freePort} from '../../helpers/ports.js'

const dir = tempDir('lbaas-fd-')
const started: number[] = []

afterAll(async () => {
  for (const pid of started) if (isAlive(pid)) await terminate(pid, {graceMs: 3_000})
  dir.cleanup()
})

const CHECKED_SERVERS = 200

async function startHaproxy(name: string, maxconn: number): Promise<{exitCode: number; stderr: string; pid?: number}> {
  const port = await freePort()
  const config = `${dir.path}/${name}.cfg`
  const servers = Array.from({length: CHECKED_SERVERS}, (_, i) => `    server s${i} 127.0.0.2:${20_000 + i} check inter 60s`)
  writeFileSync(
    config,
    [
      'global',
      `    maxconn ${maxconn}`,
      `    stats socket ${dir.path}/${name}.sock mode 600 level admin expose-fd listeners`,
      'defaults',
      '    mode http',
      '    timeout connect 1s',
      '    timeout client 5s',
      '    timeout server 5s',
      'frontend fe',
      `    bind 127.0.0.1:${port}`,
      '    default_backend be',
      'backend be',
      ...servers,
      '',
    ].join('\n'),
  )
  const pidFile = `${dir.path}/${name}.pid`
  const result = await run(['haproxy', '-W', '-D', '-S', `${dir.path}/${name}.master,mode,600`, '-f', config, '-p', pidFile], {
    allowFailure: true,
    timeoutMs: 20_000,
  })
  const pid = existsSync(pidFile) ? readPidFile(pidFile)?.pid : undefined
  if (pid) started.push(pid)
  return {exitCode: result.exitCode, stderr: result.stderr, pid}
}

describe('safeMaxConn with a real HAProxy', () => {
  const hard = readFdLimit().hard

  it('starts HAProxy at the safe maxconn for this host', async () => {
    const maxconn = safeMaxConn(hard, CHECKED_SERVERS)
    expect(maxconn).toBeGreaterThan(0)
    const result = await startHaproxy('safe', maxconn)
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.pid).toBeDefined()
    expect(isAlive(result.pid!)).toBe(true)
    expect(await terminate(result.pid!, {graceMs: 5_000})).not.toBe('not-running')
  })

  it('is refused by HAProxy at half the hard limit, which ignores its own descriptors', async () => {
    const result = await startHaproxy('greedy', Math.floor(hard / 2))
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toMatch(/Cannot raise FD limit to \d+, limit is \d+/)
    expect(readFileSync(`${dir.path}/greedy.cfg`, 'utf8')).toContain(`maxconn ${Math.floor(hard / 2)}`)
  })
})

describe('checkKernelFeatures', () => {
  it('finds everything lbaas needs on this host and leaves no probe namespace behind', async () => {
    const checks = await checkKernelFeatures()
    const byName = Object.fromEntries(checks.map((check) => [check.name, check]))
    expect(Object.keys(byName)).toEqual(['privileges', 'network namespaces', 'veth and bridge', 'haproxy', 'arping', 'file descriptors'])
    for (const check of checks) expect(check.status, `${check.name}: ${check.detail}`).toBe('ok')
    expect(byName.haproxy.detail).toMatch(/^HAProxy 2\.\d+/)
    expect(byName['file descriptors'].detail).toContain(`safe HAProxy maxconn ${safeMaxConn(readFdLimit().hard)}`)
    expect(listNamespaces('lbtdoctor-')).toEqual([])
  })
})
