/**
 * Issue 10 / SPEC §4.5 and §4.7: each promise of `lbaas sync`, on real HAProxy and
 * namespaces. A recycled PID (a `sleep` of this test written into a pool's records) is
 * never taken for HAProxy nor signalled; an HAProxy left in a namespace deleted under it is
 * replaced; one pool that cannot be repaired does not stop the others (exit 1 naming it,
 * ERROR with a reason); one sync at a time; a pool, VIP and subnet created while sync runs
 * are not torn down; `--dry-run --json` is the plan array; a second sync plans nothing; a
 * socket temporary of a live HAProxy (a re-executing master binds one) is never removed, by
 * sync or by a deploy's clean-up.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Member, Pool, Vip} from '../../../src/domain/types.js'
import {readIdentity} from '../../../src/host/identity.js'
import {linkExists} from '../../../src/host/links.js'
import {acquireLock} from '../../../src/host/lock.js'
import {hostLockPath} from '../../../src/host/names.js'
import {namespaceExists} from '../../../src/host/netns.js'
import {identityOf, isAlive, waitUntilDead} from '../../../src/host/proc.js'
import {run} from '../../../src/host/run.js'
import type {SyncAction, SyncResult} from '../../../src/service/sync.js'
import {errorOf} from '../../helpers/cli.js'
import {rebootPool} from '../../helpers/pool-crash.js'
import {startLoad, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {claimTestCidr} from '../../helpers/unique.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('syncg')
let lab: LabInfo
const pools: Record<'a' | 'b' | 'c', Pool> = {} as never
const address = {a: () => `${lab.base}.2`, b: () => `${lab.base}.3`, c: () => `${lab.base}.4`}
const sleeps: ChildProcess[] = []

const sync = (...flags: string[]) => world.cli.run(['sync', ...flags, '--json'])
const plan = () => world.cli.json<SyncAction[]>(['sync', '--dry-run', '--json'])

/** The pool's HAProxy processes (master and workers): killed, and its namespace deleted, as a reboot leaves it. */
async function reboot(poolId: string): Promise<void> {
  await rebootPool(world.paths(poolId), `lbaas-${poolId}`)
}

async function expectServes(addr: string): Promise<void> {
  const answers = await tally(addr, 80, 4)
  expect(answers.errors).toEqual([])
  expect(answers.ok).toBe(4)
}

/** Inodes of the TCP sockets listening on port 80 in the network namespace of `pid` (/proc/PID/net/tcp). */
function listenersOnPort80(pid: number): string[] {
  return readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9 && fields[1].endsWith(':0050') && fields[3] === '0A')
    .map((fields) => fields[9])
}

/** Removes the pool's identity record, as an lbaas that wrote none leaves its HAProxy; returns what it said. */
function dropIdentityRecord(poolId: string) {
  const identityFile = `${world.paths(poolId).dir}/haproxy.identity`
  const old = readIdentity(identityFile)!
  rmSync(identityFile)
  return {identityFile, old}
}

function ownSleep(): ChildProcess {
  const child = spawn('sleep', ['600'], {stdio: 'ignore'})
  sleeps.push(child)
  return child
}

beforeAll(async () => {
  lab = await world.lab(1)
  for (const key of ['a', 'b', 'c'] as const) {
    pools[key] = await world.pool(`sg-${key}`, 'HTTP', 'ROUND_ROBIN', lab)
    await world.member(pools[key].id, lab.backend(1).address)
    await world.vip(pools[key].id, `sg-${key}-vip`, 'HTTP', 80, lab, address[key]())
  }
}, 300_000)

afterAll(async () => {
  for (const child of sleeps) child.kill('SIGKILL')
  await world.cleanup()
}, 300_000)

describe('identity, not guesses (SPEC §4.7)', () => {
  it('a recycled PID after a reboot: sync redeploys, and neither sync nor vip delete signals the process that has it', async () => {
    const poolId = pools.a.id
    const paths = world.paths(poolId)
    const identityFile = `${paths.dir}/haproxy.identity`
    await reboot(poolId)
    const sleeper = ownSleep()
    await new Promise((resolve) => sleeper.once('spawn', resolve))
    const stranger = identityOf(sleeper.pid!)!
    // The run dir survived the reboot; the PID it names now belongs to our sleep.
    writeFileSync(paths.pidFile, `${stranger.pid}\n`)
    const recorded = JSON.parse(readFileSync(identityFile, 'utf8')) as Record<string, unknown>
    writeFileSync(identityFile, JSON.stringify({...recorded, pid: stranger.pid}))

    const [step] = (await plan()).filter((action) => action.target.includes(poolId))
    expect(step).toMatchObject({kind: 'deploy'})
    expect(step.reason).toContain(`recorded PID ${stranger.pid} is another process now`)

    const synced = await sync()
    expect(synced.exitCode, synced.stderr).toBe(0)
    expect(isAlive(stranger.pid, stranger.startTime)).toBe(true)
    await expectServes(address.a())
    expect(readIdentity(identityFile)!.pid).not.toBe(stranger.pid)
    expect(await plan()).toEqual([])

    const vip = (await world.cli.json<Vip[]>(['vip', 'list', '--json'])).find((candidate) => candidate.pool_id === poolId)!
    // Point the records at the sleep again: a delete must still not signal it.
    writeFileSync(identityFile, JSON.stringify({...readIdentity(identityFile)!, pid: stranger.pid}))
    writeFileSync(paths.pidFile, `${stranger.pid}\n`)
    const deleted = await world.cli.run(['vip', 'delete', vip.id, '--yes', '--json'])
    expect(deleted.exitCode, deleted.stderr).toBe(0)
    expect(isAlive(stranger.pid, stranger.startTime)).toBe(true)
    // The real HAProxy was ours by its command line (the run dir's config): it is gone too.
    expect(namespaceExists(`lbaas-${poolId}`)).toBe(false)
    expect((await tally(address.a(), 80, 1, {timeoutMs: 1_000})).ok).toBe(0)
    await world.vip(poolId, 'sg-a-vip', 'HTTP', 80, lab, address.a())
  })

  it('an HAProxy left in a namespace deleted under it is stopped and replaced', async () => {
    const poolId = pools.b.id
    const old = readIdentity(`${world.paths(poolId).dir}/haproxy.identity`)!
    await run(['ip', 'netns', 'del', `lbaas-${poolId}`], {timeoutMs: 10_000})
    expect(isAlive(old.pid, old.start_time)).toBe(true)

    const [step] = (await plan()).filter((action) => action.target.includes(poolId))
    expect(step.kind).toBe('deploy')
    expect(step.reason).toContain('namespace missing')
    expect(step.reason).toContain('HAProxy runs in a namespace that was deleted under it')

    const synced = await sync()
    expect(synced.exitCode, synced.stderr).toBe(0)
    expect(await waitUntilDead(old.pid, 5_000, old.start_time)).toBe(true)
    const now = readIdentity(`${world.paths(poolId).dir}/haproxy.identity`)!
    expect(now.pid).not.toBe(old.pid)
    await expectServes(address.b())
    expect(await plan()).toEqual([])
  })
})

describe('an HAProxy that no identity record names', () => {
  it('(started by an lbaas that wrote none, or a start that crashed before recording it) serves until a recorded one holds its sockets: no request fails', async () => {
    const poolId = pools.c.id
    const {identityFile, old} = dropIdentityRecord(poolId)
    const listening = listenersOnPort80(old.pid)
    expect(listening).toHaveLength(1)
    const [step] = (await plan()).filter((action) => action.target.includes(poolId))
    expect(step.kind).toBe('deploy')
    expect(step.reason).toContain(`HAProxy not started by this deploy runs its configuration (PID ${old.pid}`)

    const load = startLoad({host: address.c(), port: 80, keepAlive: 0, close: 1, maxRequests: 2_000, maxMs: 60_000})
    const synced = await sync()
    const during = await load.stop()
    expect(synced.exitCode, synced.stderr).toBe(0)
    expect(during.errors).toEqual([])
    expect(Object.keys(during.statuses)).toEqual(['200'])
    expect(during.ok).toBeGreaterThan(0)
    expect(await waitUntilDead(old.pid, 5_000, old.start_time)).toBe(true)
    const now = readIdentity(identityFile)!
    expect(now.pid).not.toBe(old.pid)
    // Taken over (-x), not bound again beside it: the very socket that listened before.
    expect(listenersOnPort80(now.pid)).toEqual(listening)
    await expectServes(address.c())
    expect(await plan()).toEqual([])
  })

  it('a sync killed once the new HAProxy runs, before the old one was stopped: the next sync stops it alone, and the one after plans nothing', async () => {
    const poolId = pools.c.id
    const {identityFile, old} = dropIdentityRecord(poolId)
    const killed = await world.cli.run(['sync'], {env: {LBAAS_TEST_CRASH_AT: 'deploy-after-start'}})
    expect(killed.signal).toBe('SIGKILL')
    expect(isAlive(old.pid, old.start_time)).toBe(true)
    const now = readIdentity(identityFile)!
    expect(now.pid).not.toBe(old.pid)

    const steps = (await plan()).filter((action) => action.target.includes(poolId))
    expect(steps).toHaveLength(1)
    expect(steps[0]).toMatchObject({kind: 'remove-orphan'})
    expect(steps[0].reason).toContain(`HAProxy beside the recorded one runs its configuration (PID ${old.pid}`)
    const synced = await sync()
    expect(synced.exitCode, synced.stderr).toBe(0)
    expect(await waitUntilDead(old.pid, 5_000, old.start_time)).toBe(true)
    expect(readIdentity(identityFile)!.pid).toBe(now.pid)
    await expectServes(address.c())
    expect(await plan()).toEqual([])
  })

  it('in a namespace deleted under it, it serves no one: it is stopped first and its sockets are not taken over', async () => {
    const poolId = pools.b.id
    const {old} = dropIdentityRecord(poolId)
    await run(['ip', 'netns', 'del', `lbaas-${poolId}`], {timeoutMs: 10_000})
    expect(isAlive(old.pid, old.start_time)).toBe(true)

    const synced = await sync()
    expect(synced.exitCode, synced.stderr).toBe(0)
    expect(await waitUntilDead(old.pid, 5_000, old.start_time)).toBe(true)
    await expectServes(address.b())
    expect(await plan()).toEqual([])
  })
})

describe('one failure never stops the rest', () => {
  it('a pool whose unmanaged bridge is missing is ERROR with a reason, exit 1 names it, and every other pool is deployed', async () => {
    const claim = claimTestCidr()
    const bridge = `lbt${world.suffix}x`
    try {
      await run(['ip', 'link', 'add', bridge, 'up', 'type', 'bridge'], {timeoutMs: 10_000})
      await world.cli.json(['subnet', 'create', `ext${world.suffix}`, '--cidr', claim.cidr, '--gateway', `${claim.base}.1`, '--bridge', bridge, '--json'])
      const broken = await world.cli.json<Pool>(['pool', 'create', '--name', 'sg-broken', '--subnet', `ext${world.suffix}`, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--json'])
      await world.cli.json(['vip', 'create', broken.id, '--name', 'sg-broken-vip', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', `ext${world.suffix}`, '--address', `${claim.base}.2`, '--json'])

      for (const poolId of [pools.a.id, pools.b.id, pools.c.id, broken.id]) await reboot(poolId)
      await run(['ip', 'link', 'del', bridge], {timeoutMs: 10_000})

      const failed = await sync('--parallel', '1')
      expect(failed.exitCode).toBe(1)
      const error = errorOf(failed)
      expect(error.code).toBe('sync_incomplete')
      expect(error.message).toContain(`subnet ext${world.suffix}`)
      expect(error.message).toContain(`pool sg-broken (${broken.id})`)
      for (const key of ['a', 'b', 'c'] as const) {
        expect(error.message).not.toContain(pools[key].id)
        await expectServes(address[key]())
      }
      const shown = await world.cli.json<Pool & {status_description: string | null}>(['pool', 'show', broken.id, '--json'])
      expect(shown.status).toBe('ERROR')
      expect(shown.status_description).toContain(bridge)

      // The operator brings the bridge back: the next sync converges.
      await run(['ip', 'link', 'add', bridge, 'up', 'type', 'bridge'], {timeoutMs: 10_000})
      const fixed = await sync()
      expect(fixed.exitCode, fixed.stderr).toBe(0)
      expect((await world.cli.json<Pool>(['pool', 'show', broken.id, '--json'])).status).toBe('ACTIVE')
      const leftover = await plan()
      expect(leftover, `a second sync still plans: ${JSON.stringify(leftover)}`).toEqual([])
    } finally {
      const vips = await world.cli.json<Vip[]>(['vip', 'list', '--json'])
      for (const vip of vips.filter((candidate) => candidate.name === 'sg-broken-vip')) await world.cli.run(['vip', 'delete', vip.id, '--yes'])
      await world.cli.run(['pool', 'delete', 'sg-broken', '--yes'])
      await world.cli.run(['subnet', 'delete', `ext${world.suffix}`, '--yes'])
      if (linkExists(bridge)) await run(['ip', 'link', 'del', bridge], {allowFailure: true, timeoutMs: 10_000})
      claim.release()
    }
  })
})

describe('safe beside other commands', () => {
  it('one sync at a time: a second exits 4 after --wait 0, or waits for the first', async () => {
    const held = await acquireLock(hostLockPath(world.runDir), 'a sync of this test')
    try {
      const refused = await world.cli.run(['sync', '--wait', '0', '--json'])
      expect(refused.exitCode).toBe(4)
      expect(errorOf(refused).code).toBe('lock_held')
      const waiting = world.cli.run(['sync', '--wait', '60', '--json'])
      await sleep(500)
      held.release()
      const waited = await waiting
      expect(waited.exitCode, waited.stderr).toBe(0)
    } finally {
      held.release()
    }
  })

  it('a pool, a VIP and a subnet created while sync runs are not torn down by it', async () => {
    const gate = `${world.dir}/sync-gate`
    const claim = claimTestCidr()
    try {
      const syncing = world.cli.run(['sync', '--json'], {env: {LBAAS_TEST_PAUSE_AT: `sync-after-state-read:${gate}`}})
      await waitFor('sync to reach its gate', () => existsSync(`${gate}.reached`), 30_000, 50)
      expect(existsSync(`${gate}.reached`)).toBe(true)

      // Sync has read the state file; these complete before it looks at the host.
      const late = await world.cli.json<Pool>(['pool', 'create', '--name', 'sg-late', '--subnet', lab.subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--json'])
      await world.member(late.id, lab.backend(1).address)
      await world.vip(late.id, 'sg-late-vip', 'HTTP', 80, lab, `${lab.base}.5`)
      const subnet = await world.cli.json<{bridge: string}>(['subnet', 'create', `late${world.suffix}`, '--cidr', claim.cidr, '--gateway', `${claim.base}.1`, '--json'])
      writeFileSync(gate, '')

      const synced = await syncing
      expect(synced.exitCode, synced.stderr).toBe(0)
      const result = JSON.parse(synced.stdout) as SyncResult
      // It did see them as orphans, and kept them: they were in the state file under the lock.
      expect(result.actions.map((action) => action.target)).toContain(`pool ${late.id}`)
      expect(result.actions.map((action) => action.target)).toContain(`bridge ${subnet.bridge}`)
      expect(namespaceExists(`lbaas-${late.id}`)).toBe(true)
      expect(linkExists(subnet.bridge)).toBe(true)
      await expectServes(`${lab.base}.5`)
      expect(await plan()).toEqual([])

      const vips = await world.cli.json<Vip[]>(['vip', 'list', '--json'])
      for (const vip of vips.filter((candidate) => candidate.pool_id === late.id)) await world.cli.run(['vip', 'delete', vip.id, '--yes'])
      await world.cli.run(['pool', 'delete', late.id, '--yes'])
      await world.cli.json(['subnet', 'delete', `late${world.suffix}`, '--yes', '--json'])
    } finally {
      claim.release()
    }
  })
})

describe('the plan', () => {
  it('--dry-run --json is an array of {kind, target, reason}; sync then converges and a second sync plans nothing', async () => {
    await reboot(pools.c.id)
    const planned = await plan()
    expect(Array.isArray(planned)).toBe(true)
    expect(planned).toEqual([{kind: 'deploy', target: `pool sg-c (${pools.c.id})`, reason: 'namespace missing; HAProxy not running'}])
    const synced = await sync()
    expect(synced.exitCode, synced.stderr).toBe(0)
    await expectServes(address.c())
    expect(await plan()).toEqual([])
    expect(JSON.parse((await sync()).stdout)).toEqual({dry_run: false, actions: [], failures: []})
  })
})

describe("HAProxy's own socket temporaries", () => {
  it('one named after the live master is its work in progress (it re-executes and rebinds so): sync leaves it; one of a dead PID is removed', async () => {
    const paths = world.paths(pools.c.id)
    const master = readIdentity(`${paths.dir}/haproxy.identity`)!
    const exited = spawn('true', [], {stdio: 'ignore'})
    await new Promise((resolve) => exited.once('exit', resolve))
    const live = `master.sock.${master.pid}.bak`
    const dead = `stats.sock.${exited.pid}.tmp`
    writeFileSync(`${paths.dir}/${live}`, '')
    writeFileSync(`${paths.dir}/${dead}`, '')
    try {
      expect(await plan()).toEqual([{kind: 'remove-orphan', target: `pool sg-c (${pools.c.id})`, reason: `${dead} left by an interrupted deploy`}])
      const synced = await sync()
      expect(synced.exitCode, synced.stderr).toBe(0)
      expect(existsSync(`${paths.dir}/${dead}`)).toBe(false)
      expect(existsSync(`${paths.dir}/${live}`)).toBe(true)
      expect(isAlive(master.pid, master.start_time)).toBe(true)
      await expectServes(address.c())
      expect(await plan()).toEqual([])
    } finally {
      rmSync(`${paths.dir}/${live}`, {force: true})
    }
  })

  it("a deploy's own clean-up keeps one named after a live HAProxy and removes one of a dead PID", async () => {
    const paths = world.paths(pools.a.id)
    // Another pool's master: live HAProxy, and not one that unlinks its own temporaries in this entry.
    const other = readIdentity(`${world.paths(pools.b.id).dir}/haproxy.identity`)!
    const exited = spawn('true', [], {stdio: 'ignore'})
    await new Promise((resolve) => exited.once('exit', resolve))
    const live = `stats.sock.${other.pid}.bak`
    const dead = `master.sock.${exited.pid}.bak`
    writeFileSync(`${paths.dir}/${live}`, '')
    writeFileSync(`${paths.dir}/${dead}`, '')
    try {
      const added = await world.cli.json<Member>(['member', 'create', pools.a.id, '--address', lab.backend(1).address, '--protocol-port', '8001', '--json'])
      expect(existsSync(`${paths.dir}/${dead}`)).toBe(false)
      expect(existsSync(`${paths.dir}/${live}`)).toBe(true)
      expect((await world.cli.run(['member', 'delete', added.id, '--yes'])).exitCode).toBe(0)
      await expectServes(address.a())
    } finally {
      rmSync(`${paths.dir}/${live}`, {force: true})
    }
  })
})
