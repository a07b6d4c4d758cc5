/**
 * SPEC §11 on one host, at the host layer: two HA peers of one pool (each with its own run
 * dir, as two agents would have) run real HAProxy and real keepalived in
 * `lbaas-<pool>-a` and `lbaas-<pool>-b` on a lab bridge this file created. VRRP stays on
 * that bridge (unicast between the two peer addresses).
 */
import {randomUUID} from 'node:crypto'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PoolGraph, Subnet} from '../../../src/domain/types.js'
import {sendCommand} from '../../../src/haproxy/runtime.js'
import {LocalExecutor} from '../../../src/host/executor.js'
import {haproxyAccount} from '../../../src/host/haproxy-process.js'
import {deployHaPeer, haPeerStatus, installKeepalivedConfig, removeHaPeer, type HaPeerAssignment} from '../../../src/host/ha-peer.js'
import {KeepalivedRejectedError, runningKeepalived, stopKeepalived} from '../../../src/host/keepalived-process.js'
import {haNamespaceFor, keepalivedPaths, poolPaths, type HaPeerRole} from '../../../src/host/names.js'
import {namespaceExists} from '../../../src/host/netns.js'
import {isAlive} from '../../../src/host/proc.js'
import {silentNotifier} from '../../../src/service/context.js'
import {HA_ROLES, killHaproxyOf, killPeerHost, otherPeer as other, vipAnswer, vipHolders} from '../../helpers/ha-peers.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('ha')
const poolId = randomUUID()
const ROLES: HaPeerRole[] = [...HA_ROLES]
const runDirs: Record<HaPeerRole, string> = {a: `${world.dir}/agent-a`, b: `${world.dir}/agent-b`}
const hooks = {countersBeforeReload() {}}
const executors = Object.fromEntries(
  ROLES.map((role) => [role, new LocalExecutor({runDir: runDirs[role], maxconn: 2_000, ...haproxyAccount(), notify: silentNotifier})]),
) as Record<HaPeerRole, LocalExecutor>

let lab: LabInfo
let graph: PoolGraph
let assignment: Omit<HaPeerAssignment, 'role'>
let vip: string

function buildGraph(info: LabInfo): PoolGraph {
  const subnet: Subnet = {id: info.subnetId, name: info.subnet, cidr: info.cidr, gateway_ip: `${info.base}.1`, bridge: info.bridge, managed: true}
  const vipId = randomUUID()
  const members = [1, 2].map((n) => ({
    id: randomUUID(),
    pool_id: poolId,
    address: info.backend(n).address,
    protocol_port: 8000,
    weight: 1,
    admin_state_up: true,
    status: 'ACTIVE' as const,
    status_description: null,
    operating_status: 'ONLINE' as const,
  }))
  return {
    pool: {
      id: poolId, name: 'ha', description: '', subnet_id: subnet.id, protocol: 'HTTP', lb_method: 'ROUND_ROBIN', admin_state_up: true,
      status: 'ACTIVE', status_description: null, operating_status: 'ONLINE', vip_id: vipId, members: members.map((m) => m.id),
      health_monitors: [], agent: 'local',
    },
    subnet,
    members,
    monitors: [],
    associations: [],
    vip: {
      id: vipId, name: 'ha-vip', description: '', pool_id: poolId, subnet_id: subnet.id, address: `${info.base}.100`, protocol: 'HTTP',
      protocol_port: 80, connection_limit: -1, session_persistence: {type: 'SOURCE_IP'}, default_cert: null, sni_certs: [], redirect_http: false, syslog: null, admin_state_up: true, status: 'ACTIVE',
      status_description: null,
    },
    vipSubnet: subnet,
    certs: [],
  }
}

async function deploy(role: HaPeerRole): Promise<void> {
  await deployHaPeer(executors[role], runDirs[role], graph, {...assignment, role}, hooks)
}

const holders = () => vipHolders(poolId, vip)
const answers = () => vipAnswer(vip)
const killHaproxy = (role: HaPeerRole) => killHaproxyOf(poolPaths(runDirs[role], poolId).config)

async function master(): Promise<HaPeerRole> {
  return waitFor('one MASTER holding the VIP', async () => {
    const held = await holders()
    const role = held.length === 1 ? held[0] : undefined
    return role && haPeerStatus(runDirs[role], poolId, role).vrrpState === 'MASTER' ? role : undefined
  }, 15_000)
}

beforeAll(async () => {
  lab = await world.lab(2)
  graph = buildGraph(lab)
  vip = graph.vip!.address
  assignment = {virtualRouterId: 42, addresses: {a: `${lab.base}.31`, b: `${lab.base}.32`}}
  await Promise.all(ROLES.map(deploy))
}, 120_000)

afterAll(async () => {
  for (const role of ROLES) await removeHaPeer(executors[role], runDirs[role], poolId, role).catch(() => undefined)
  await world.cleanup()
}, 120_000)

describe('HA peers on one host (SPEC §11)', () => {
  let first: HaPeerRole
  const gaps: Record<string, number> = {}

  it('elects exactly one MASTER, which answers on the VIP; the other is BACKUP', async () => {
    first = await master()
    expect(haPeerStatus(runDirs[other(first)], poolId, other(first)).vrrpState).toBe('BACKUP')
    expect(await waitFor('the VIP to answer', answers, 10_000)).toMatch(/-[12]$/)
  })

  it('holds the VIP in exactly one namespace at every sample while both are healthy', async () => {
    const samples: HaPeerRole[][] = []
    for (let i = 0; i < 40; i++) {
      samples.push(await holders())
      await sleep(100)
    }
    expect(samples.filter((held) => held.length !== 1)).toEqual([])
    expect(new Set(samples.map((held) => held[0]))).toEqual(new Set([first]))
  })

  it('shares the SOURCE_IP stick table with the BACKUP (HAProxy peers)', async () => {
    await waitFor('the VIP to answer', answers, 10_000)
    const standby = other(first)
    const table = await waitFor('the entry on the standby', async () => {
      const text = await sendCommand(poolPaths(runDirs[standby], poolId).statsSocket, `show table ${poolId}`, {timeoutMs: 2_000})
      return text.includes(`key=${lab.base}.1 `) ? text : undefined
    }, 10_000)
    const serverId = /key=\S+ .*server_id=(\d+)/.exec(table)?.[1]
    expect(serverId).toBeDefined()
  })

  it('moves the VIP to the other peer when the MASTER HAProxy is killed; persistence holds', async () => {
    const backendBefore = await answers()
    const started = performance.now()
    await killHaproxy(first)
    await waitFor('the VIP to answer', answers, 15_000)
    gaps.haproxyKilled = Math.round(performance.now() - started)
    const now = await master()
    expect(now).toBe(other(first))
    expect(haPeerStatus(runDirs[first], poolId, first).vrrpState).toBe('FAULT')
    // Same client address, same backend: the stick entry came over with the peers protocol.
    expect(await answers()).toBe(backendBefore)
    console.log(`failover after the MASTER's HAProxy was killed: ${gaps.haproxyKilled} ms`)
  })

  it('brings the first peer back as BACKUP: no preemption, the VIP stays where it is', async () => {
    await deploy(first)
    await waitFor('the first peer to be BACKUP', async () =>
      haPeerStatus(runDirs[first], poolId, first).vrrpState === 'BACKUP' ? true : undefined, 15_000)
    for (let i = 0; i < 20; i++) {
      expect(await holders()).toEqual([other(first)])
      await sleep(100)
    }
    // Redeploying the MASTER (plumbing repaired, configs unchanged) never takes its VIP away.
    await deploy(other(first))
    for (let i = 0; i < 10; i++) {
      expect(await holders()).toEqual([other(first)])
      await sleep(100)
    }
    expect(await answers()).toBeDefined()
  })

  it("restarts a BACKUP's keepalived whose pid files name a recycled PID, without signalling that process; the VIP stays", async () => {
    const backup = first
    const paths = keepalivedPaths(runDirs[backup], poolId)
    await stopKeepalived(paths, haNamespaceFor(poolId, backup))
    // What a reboot or a late-reaping PID 1 leaves: the pid files name a live process that is not keepalived.
    const stranger = spawn('sleep', ['600'], {stdio: 'ignore'})
    try {
      for (const file of [paths.pidFile, paths.vrrpPidFile]) writeFileSync(file, `${stranger.pid}\n`)
      await deploy(backup)
      expect(runningKeepalived(paths, haNamespaceFor(poolId, backup))).toBeDefined()
      expect(isAlive(stranger.pid!)).toBe(true)
      await waitFor('the restarted peer to be BACKUP', async () =>
        haPeerStatus(runDirs[backup], poolId, backup).vrrpState === 'BACKUP' ? true : undefined, 15_000)
      expect(await holders()).toEqual([other(backup)])
    } finally {
      stranger.kill()
    }
  })

  it('keeps everything as it was when keepalived rejects a configuration (keepalived -t)', async () => {
    const role = other(first)
    const paths = keepalivedPaths(runDirs[role], poolId)
    const before = readFileSync(paths.config, 'utf8')
    const running = runningKeepalived(paths, haNamespaceFor(poolId, role))
    expect(running).toBeDefined()
    const bad = before.replace(/priority \d+/, 'priority 900')
    await expect(installKeepalivedConfig(poolId, paths, haNamespaceFor(poolId, role), bad)).rejects.toBeInstanceOf(KeepalivedRejectedError)
    expect(readFileSync(paths.config, 'utf8')).toBe(before)
    expect(existsSync(paths.configRejected)).toBe(true)
    expect(runningKeepalived(paths, haNamespaceFor(poolId, role))).toEqual(running)
    expect(await holders()).toEqual([role])
  })

  it("moves the VIP back when the MASTER's whole namespace is gone (its host died)", async () => {
    const dying = other(first)
    const started = performance.now()
    await killPeerHost(poolId, dying)
    await waitFor('the VIP to answer', answers, 15_000)
    gaps.hostDied = Math.round(performance.now() - started)
    expect(await master()).toBe(first)
    console.log(`failover after the MASTER's namespace was removed: ${gaps.hostDied} ms`)
    // The dead peer's leftovers: its run dir, and its link (gone with the namespace).
    await removeHaPeer(executors[dying], runDirs[dying], poolId, dying)
    expect(namespaceExists(haNamespaceFor(poolId, dying))).toBe(false)
  })
})
