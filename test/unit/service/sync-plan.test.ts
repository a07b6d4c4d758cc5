import {describe, expect, it} from 'vitest'

import type {HostInventory, RunEntryReport} from '../../../src/host/inventory.js'
import {isStrayRunFile} from '../../../src/host/names.js'
import {planDevice, planPool, planSync, type SyncWants, type WantedPool} from '../../../src/service/sync-plan.js'

const ID = '0b4c8f6e-6f7e-4e4f-9b1a-2f1d8c3e4a5b'
const OTHER = '1c5d9a7f-7a8b-4f5a-8c2b-3a2e9d4f5b6c'
const SHA = 'a'.repeat(64)

const pool = (over: Partial<WantedPool> = {}): WantedPool => ({id: ID, target: `pool web (${ID})`, served: true, configSha: SHA, pending: [], ...over})
const entry = (over: Partial<RunEntryReport> = {}): RunEntryReport => ({
  id: ID,
  files: ['haproxy.cfg', 'haproxy.cfg.applied', 'haproxy.identity', 'haproxy.pid', 'master.sock', 'server-state', 'stats.sock'],
  master: {pid: 100, verdict: {state: 'running'}},
  configSha: SHA,
  appliedSha: SHA,
  lockHeld: false,
  inUse: [],
  unrecorded: [],
  ...over,
})
const inventory = (over: Partial<HostInventory> = {}): HostInventory => ({
  owner: 'lbaas:12345678',
  runEntries: [],
  poolNamespaces: [],
  vipLinks: [],
  managedBridges: [],
  labNamespaces: [],
  plugs: {},
  haPeers: {},
  bridges: {},
  ...over,
})
const wants = (over: Partial<SyncWants> = {}): SyncWants => ({
  pools: [],
  allPoolIds: new Set(),
  knownLinks: new Set(),
  subnets: [],
  labNamespaces: new Set(),
  labDown: [],
  ...over,
})

describe('planPool', () => {
  it('plans nothing for a served pool whose proven HAProxy runs the current configuration', () => {
    expect(planPool(pool(), entry(), true, [])).toEqual([])
  })

  it('after a reboot: namespace missing, HAProxy not running', () => {
    const [step] = planPool(pool(), entry({master: {pid: 100, verdict: {state: 'not-ours', reason: 'gone'}}}), false, [])
    expect(step).toMatchObject({kind: 'deploy', operation: {type: 'apply-pool', poolId: ID}})
    expect(step.reason).toBe('namespace missing; HAProxy not running')
  })

  it('a recycled PID is not running, and says so', () => {
    const [step] = planPool(pool(), entry({master: {pid: 100, verdict: {state: 'not-ours', reason: 'another program'}}}), true, [])
    expect(step.kind).toBe('deploy')
    expect(step.reason).toContain('recorded PID 100 is another process now: another program')
  })

  it('a detached HAProxy is redeployed', () => {
    const [step] = planPool(pool(), entry({master: {pid: 100, verdict: {state: 'detached'}}}), true, [])
    expect(step).toMatchObject({kind: 'deploy', reason: 'HAProxy runs in a namespace that was deleted under it'})
  })

  it('a configuration written but never loaded (crash after the rename) is redeployed', () => {
    expect(planPool(pool(), entry({appliedSha: 'b'.repeat(64)}), true, [])[0].reason).toBe('running configuration differs from the state file')
  })

  it('missing plug steps and stale PENDING_* are reasons to deploy', () => {
    const [step] = planPool(pool({pending: ['member m PENDING_UPDATE']}), entry(), true, ['address 198.18.0.2/24 added'])
    expect(step.reason).toBe('address 198.18.0.2/24 added; stale member m PENDING_UPDATE')
  })

  it('with no master running, an HAProxy loading the configuration that lbaas never recorded is named in the deploy (which hands it over)', () => {
    const [step, ...rest] = planPool(pool(), entry({master: {verdict: {state: 'not-ours', reason: 'gone'}}, unrecorded: [{pid: 7, startTime: 1}]}), true, [])
    expect(step).toMatchObject({kind: 'deploy', reason: 'HAProxy not running; HAProxy not started by this deploy runs its configuration (PID 7)'})
    expect(rest).toEqual([])
  })

  it('beside a running master, it is a step of its own (a deploy would leave it), next to any deploy', () => {
    const stop = {
      kind: 'remove-orphan',
      target: `pool web (${ID})`,
      reason: 'HAProxy beside the recorded one runs its configuration (PID 7, 8)',
      operation: {type: 'stop-unrecorded', id: ID},
    }
    const unrecorded = [{pid: 7, startTime: 1}, {pid: 8, startTime: 2}]
    expect(planPool(pool(), entry({unrecorded}), true, [])).toEqual([stop])
    expect(planPool(pool(), entry({unrecorded, appliedSha: null}), true, []).map((step) => step.kind)).toEqual(['deploy', 'remove-orphan'])
    expect(planDevice({id: ID, target: `pool web (${ID})`, served: true, suspended: false, configSha: SHA}, entry({unrecorded}))).toEqual([stop])
  })

  it('removes stray files of a converged pool, but not while a command holds its lock', () => {
    const files = [...entry().files, 'master.sock.4242.bak', 'haproxy.cfg.new', 'server-state.99.tmp', 'notes.txt']
    expect(planPool(pool(), entry({files}), true, [])).toEqual([
      {
        kind: 'remove-orphan',
        target: `pool web (${ID})`,
        reason: 'master.sock.4242.bak, haproxy.cfg.new, server-state.99.tmp left by an interrupted deploy',
        operation: {type: 'remove-files', id: ID, files: ['master.sock.4242.bak', 'haproxy.cfg.new', 'server-state.99.tmp']},
      },
    ])
    expect(planPool(pool(), entry({files, lockHeld: true}), true, [])).toEqual([])
  })

  it('leaves a temporary named after a live process: a re-executing HAProxy master is binding it', () => {
    const files = [...entry().files, 'master.sock.4242.tmp', 'master.sock.4242.bak', 'haproxy.cfg.new']
    const steps = planPool(pool(), entry({files, inUse: ['master.sock.4242.tmp', 'master.sock.4242.bak']}), true, [])
    expect(steps.map((step) => step.operation)).toEqual([{type: 'remove-files', id: ID, files: ['haproxy.cfg.new']}])
    expect(planPool(pool(), entry({files: [...entry().files, 'master.sock.4242.tmp'], inUse: ['master.sock.4242.tmp']}), true, [])).toEqual([])
  })

  it('a pool without a VIP: undeploy what is left, settle what is pending, else nothing', () => {
    expect(planPool(pool({served: false}), entry(), true, [])[0]).toMatchObject({kind: 'undeploy', reason: 'no VIP, but namespace and run files left on the host'})
    expect(planPool(pool({served: false, pending: ['pool PENDING_UPDATE']}), undefined, false, [])[0]).toMatchObject({kind: 'settle', reason: 'stale pool PENDING_UPDATE'})
    expect(planPool(pool({served: false}), undefined, false, [])).toEqual([])
  })
})

describe('isStrayRunFile', () => {
  it.each(['haproxy.cfg.new', 'haproxy.cfg.rejected', 'haproxy.cfg.failed', 'master.sock.123.bak', 'stats.sock.9.tmp', 'haproxy.cfg.55.tmp'])('%s is stray', (name) => {
    expect(isStrayRunFile(name)).toBe(true)
  })
  it.each(['haproxy.cfg', 'haproxy.identity', 'master.sock', 'server-state', 'notes.txt', '../x.1.tmp', 'master.sock.bak'])('%s is not', (name) => {
    expect(isStrayRunFile(name)).toBe(false)
  })
})

describe('planDevice', () => {
  const device = {id: ID, target: `Libra device ${ID}`, served: true, suspended: false, configSha: SHA}
  it('nothing when it serves its stored configuration', () => {
    expect(planDevice(device, entry())).toEqual([])
  })
  it('deploys when it does not run, undeploys when it runs but should not', () => {
    expect(planDevice(device, undefined)[0]).toMatchObject({kind: 'deploy', operation: {type: 'restore-device'}})
    expect(planDevice({...device, served: false}, entry())[0]).toMatchObject({kind: 'undeploy'})
  })
})

describe('planSync', () => {
  it('orphans: only what carries our owner tag or lives in our run dir, and never a pool of the state file', () => {
    const plan = planSync(
      wants({allPoolIds: new Set([ID]), knownLinks: new Set(['lbv0b4c8f6e6f7']), subnets: [{id: 's', name: 'lab', bridge: 'lbbr-aaaaaaaa', managed: true}]}),
      inventory({
        runEntries: [entry({id: OTHER})],
        poolNamespaces: [
          {name: `lbaas-${OTHER}`, id: OTHER, ours: true},
          {name: `lbaas-${ID}`, id: ID, ours: true},
        ],
        vipLinks: [
          {name: 'lbv1c5d9a7f7a8', ours: true},
          {name: 'lbv0b4c8f6e6f7', ours: true},
          {name: 'lbv99999999999', ours: false},
        ],
        managedBridges: [
          {name: 'lbbr-aaaaaaaa', ours: true},
          {name: 'lbbr-bbbbbbbb', ours: true},
          {name: 'lbbr-cccccccc', ours: false},
        ],
        labNamespaces: [
          {name: 'lab-aaaaaaaa-1', ours: true},
          {name: 'lab-bbbbbbbb-1', ours: false},
        ],
      }),
    )
    expect(plan.map((step) => [step.kind, step.target, step.operation.type])).toEqual([
      ['remove-orphan', `pool ${OTHER}`, 'remove-entry'],
      ['remove-orphan', 'link lbv1c5d9a7f7a8', 'delete-link'],
      ['remove-orphan', 'bridge lbbr-bbbbbbbb', 'delete-bridge'],
      ['remove-orphan', 'lab namespace lab-aaaaaaaa-1', 'remove-lab-namespace'],
    ])
  })

  it('a missing unmanaged bridge is a problem (no action); a managed one is repaired', () => {
    const plan = planSync(
      wants({
        subnets: [
          {id: 'a', name: 'ext', bridge: 'br-ext', managed: false},
          {id: 'b', name: 'lab', bridge: 'lbbr-aaaaaaaa', managed: true},
        ],
      }),
      inventory({
        bridges: {
          'br-ext': {name: 'br-ext', exists: false, isBridge: false, changes: []},
          'lbbr-aaaaaaaa': {name: 'lbbr-aaaaaaaa', exists: false, isBridge: false, changes: ['bridge lbbr-aaaaaaaa created']},
        },
      }),
    )
    expect(plan.map((step) => [step.kind, step.target, step.operation.type])).toEqual([
      ['problem', 'subnet ext', 'none'],
      ['repair-bridge', 'subnet lab', 'ensure-subnet'],
    ])
  })

  it('a host that matches plans nothing', () => {
    const plan = planSync(
      wants({pools: [pool()], allPoolIds: new Set([ID]), knownLinks: new Set(['lbv0b4c8f6e6f7'])}),
      inventory({runEntries: [entry()], poolNamespaces: [{name: `lbaas-${ID}`, id: ID, ours: true}], vipLinks: [{name: 'lbv0b4c8f6e6f7', ours: true}], plugs: {[ID]: []}}),
    )
    expect(plan).toEqual([])
  })

  it('lab backends that are down are started', () => {
    expect(planSync(wants({labDown: ['b1']}), inventory())).toEqual([{kind: 'start-lab-backend', target: 'lab backend b1', reason: 'not running', operation: {type: 'start-lab-backend', name: 'b1'}}])
  })
})

describe('planSync: this host\'s peer of an HA pool (SPEC §11, namespace lbaas-<id>-<a|b>)', () => {
  const peer = pool({haRole: 'a'})
  const healthy = {runEntries: [entry()], haPeers: {[ID]: {namespace: true, keepalivedRunning: true}}}

  it('plans nothing when its namespace, HAProxy (peer configuration) and keepalived run: a second sync is quiet', () => {
    // The plain `lbaas-<id>` namespace is absent (an HA peer never has one): not a reason.
    expect(planSync(wants({pools: [peer], allPoolIds: new Set([ID])}), inventory(healthy))).toEqual([])
  })

  it('redeploys when its peer namespace is missing, or keepalived does not run', () => {
    const missing = planSync(wants({pools: [peer], allPoolIds: new Set([ID])}), inventory({...healthy, haPeers: {[ID]: {namespace: false, keepalivedRunning: false}}}))
    expect(missing).toEqual([expect.objectContaining({kind: 'deploy', reason: 'namespace missing'})])
    const stopped = planSync(wants({pools: [peer], allPoolIds: new Set([ID])}), inventory({...healthy, haPeers: {[ID]: {namespace: true, keepalivedRunning: false}}}))
    expect(stopped).toEqual([expect.objectContaining({kind: 'deploy', reason: 'keepalived not running', operation: {type: 'apply-pool', poolId: ID}})])
    const both = planSync(
      wants({pools: [pool({haRole: 'b', configSha: 'b'.repeat(64)})], allPoolIds: new Set([ID])}),
      inventory({...healthy, haPeers: {[ID]: {namespace: true, keepalivedRunning: false}}}),
    )
    expect(both).toEqual([expect.objectContaining({kind: 'deploy', reason: 'running configuration differs from the state file; keepalived not running'})])
  })

  it('keepalived not running keeps the other steps of the peer (an HAProxy beside its recorded one)', () => {
    const steps = planSync(
      wants({pools: [peer], allPoolIds: new Set([ID])}),
      inventory({runEntries: [entry({unrecorded: [{pid: 7, startTime: 1}]})], haPeers: {[ID]: {namespace: true, keepalivedRunning: false}}}),
    )
    expect(steps.map((step) => [step.kind, step.operation.type])).toEqual([
      ['deploy', 'apply-pool'],
      ['remove-orphan', 'stop-unrecorded'],
    ])
  })

  it('a plain pool still needs its own namespace', () => {
    expect(planSync(wants({pools: [pool()], allPoolIds: new Set([ID])}), inventory(healthy))).toEqual([expect.objectContaining({kind: 'deploy', reason: 'namespace missing'})])
  })
})
