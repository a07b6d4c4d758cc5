/**
 * Commands on one pool that overlap, in process: the first command's deploy is held open
 * (a gated executor) while the second commits. Found by the concurrency test (20 CLI
 * processes at once): a delete that committed while another command's deploy ran was
 * undone when that deploy marked the member ACTIVE (the delete then "succeeded" and the
 * member stayed); an update of a member being deleted brought it back; a monitor update
 * undid a disassociation in flight; and an update whose member was deleted meanwhile
 * crashed with an internal error instead of answering not_found.
 */
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {LbaasError} from '../../../src/domain/errors.js'
import type {PoolGraph} from '../../../src/domain/types.js'
import type {DeployOutcome, ExecutorHooks} from '../../../src/executor/port.js'
import {createMember, deleteMember, updateMember} from '../../../src/service/members.js'
import {associateMonitor, createMonitor, disassociateMonitor, updateMonitor} from '../../../src/service/monitors.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip, deleteVip, updateVip} from '../../../src/service/vips.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import {getMember} from '../../../src/store/members.js'
import {getAssociation} from '../../../src/store/monitors.js'
import {getVip} from '../../../src/store/vips.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {codeOf} from '../../helpers/errors.js'

/** Holds the next deploy (or runtime change) open until `open()` is called. */
class GatedExecutor extends RecordingExecutor {
  private gate: Promise<void> | undefined
  private release: (() => void) | undefined
  /** Resolves once the held deploy has started (its graph is read). */
  started: Promise<void> = Promise.resolve()
  private signalStarted: (() => void) | undefined

  holdNext(): void {
    this.gate = new Promise((resolve) => (this.release = resolve))
    this.started = new Promise((resolve) => (this.signalStarted = resolve))
  }

  open(): void {
    this.release?.()
  }

  private async wait(): Promise<void> {
    const gate = this.gate
    this.gate = undefined
    if (!gate) return
    this.signalStarted?.()
    await gate
  }

  override async deploy(graph: PoolGraph, hooks: ExecutorHooks): Promise<DeployOutcome> {
    await this.wait()
    return super.deploy(graph, hooks)
  }

  override async applyRuntime(graph: PoolGraph, memberIds: readonly string[], hooks: ExecutorHooks): Promise<DeployOutcome> {
    await this.wait()
    return super.applyRuntime(graph, memberIds, hooks)
  }
}

let executor: GatedExecutor
let ctx: ReturnType<typeof testContext>
let poolId: string
let memberId: string

beforeEach(async () => {
  executor = new GatedExecutor()
  ctx = testContext(executor)
  await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
  poolId = (await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})).id
  memberId = (await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: 8000})).id
  await createVip(ctx, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
})
afterEach(() => ctx.cleanup())


/** Holds the pool with another command's deploy; gives that command, to await after `open()`. */
async function holdPool(): Promise<{other: Promise<unknown>}> {
  executor.holdNext()
  const other = createMember(ctx, 'web', {address: '198.18.0.12', protocol_port: 8000})
  await executor.started
  return {other}
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('commands that overlap on one pool', () => {
  it('a delete that commits while another deploy runs is not undone when that deploy records its success', async () => {
    executor.holdNext()
    // The update's deploy reads the graph (member PENDING_UPDATE) and is held there.
    const update = updateMember(ctx, memberId, {weight: 5}).then(
      (member) => (member?.id === memberId ? 'member' : `returned ${JSON.stringify(member)}`),
      (error) => (error instanceof LbaasError ? error.code : `threw ${error}`),
    )
    await executor.started
    const removal = deleteMember(ctx, memberId) // commits PENDING_DELETE, waits for the pool
    await tick()
    expect(getMember(ctx.store.db, memberId)?.status).toBe('PENDING_DELETE')
    executor.open()
    await removal
    expect(getMember(ctx.store.db, memberId)).toBeUndefined()
    expect(loadPoolGraph(ctx.store.db, poolId)!.members).toEqual([])
    // The update committed before the delete: it answers with the member, or not_found now that it is gone.
    expect(['member', 'not_found']).toContain(await update)
  })

  it('an update of a member being deleted is not_found, and the delete goes through', async () => {
    const {other} = await holdPool()
    const removal = deleteMember(ctx, memberId) // PENDING_DELETE, waits behind the held deploy
    await tick()
    expect(await codeOf(updateMember(ctx, memberId, {weight: 7}))).toBe('not_found')
    expect(getMember(ctx.store.db, memberId)).toMatchObject({status: 'PENDING_DELETE', weight: 1})
    executor.open()
    await Promise.all([other, removal])
    expect(getMember(ctx.store.db, memberId)).toBeUndefined()
  })

  it('an update of a VIP being deleted is not_found, and the delete goes through', async () => {
    const vipId = loadPoolGraph(ctx.store.db, poolId)!.vip!.id
    const {other} = await holdPool()
    const removal = deleteVip(ctx, vipId)
    await tick()
    expect(await codeOf(updateVip(ctx, vipId, {connection_limit: 10}))).toBe('not_found')
    executor.open()
    await Promise.all([other, removal])
    expect(getVip(ctx.store.db, vipId)).toBeUndefined()
  })

  it('a monitor update does not undo a disassociation in flight', async () => {
    const monitor = await createMonitor(ctx, {type: 'TCP', delay: 5, timeout: 2, max_retries: 3})
    await associateMonitor(ctx, monitor.id, 'web')
    const {other} = await holdPool()
    const disassociation = disassociateMonitor(ctx, monitor.id, 'web')
    await tick()
    const update = updateMonitor(ctx, monitor.id, {delay: 9})
    await tick()
    expect(getAssociation(ctx.store.db, poolId, monitor.id)?.status).toBe('PENDING_DELETE')
    executor.open()
    await Promise.all([other, disassociation])
    expect((await update).delay).toBe(9)
    expect(getAssociation(ctx.store.db, poolId, monitor.id)).toBeUndefined()
  })
})
