/** The demo's refusals come before it changes anything (the run itself is an integration test). */
import {describe, expect, it} from 'vitest'

import {LbaasError} from '../../../src/domain/errors.js'
import {runDemo} from '../../../src/service/demo.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {type RecordingExecutor, refusedBeforeTheHost, type TestContext, useRecordingContext} from '../../helpers/context.js'

let executor: RecordingExecutor
let ctx: TestContext
useRecordingContext((made) => ({ctx, executor} = made))

async function refusal(input: Parameters<typeof runDemo>[1]): Promise<LbaasError> {
  return refusedBeforeTheHost(executor, () => runDemo(ctx, {uid: 0, ...input}))
}

describe('lbaas demo refuses', () => {
  it('a lab subnet that pools use, suggesting a lab of its own', async () => {
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    await createPool(ctx, {name: 'mine', subnet: 'lab', protocol: 'TCP', lb_method: 'ROUND_ROBIN'})
    const error = await refusal({})
    expect(error.code).toBe('in_use')
    expect(error.suggestion).toContain('lbaas demo --subnet NAME --cidr CIDR')
  })

  it('a subnet on a bridge lbaas does not manage', async () => {
    await createSubnet(ctx, {name: 'office', cidr: '198.18.1.0/24', bridge: 'br0'})
    expect((await refusal({subnet: 'office'})).code).toBe('not_a_lab')
  })

  it('a --cidr that differs from the existing subnet', async () => {
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    expect((await refusal({cidr: '198.18.5.0/24'})).code).toBe('invalid_cidr')
  })

  it('a pool left by an earlier --keep, saying how to remove it', async () => {
    await createSubnet(ctx, {name: 'other', cidr: '198.18.3.0/24'})
    await createPool(ctx, {name: 'demo-web', subnet: 'other', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    const error = await refusal({})
    expect(error.code).toBe('duplicate_name')
    expect(error.suggestion).toContain('lbaas pool delete demo-web --yes')
  })

  it('fewer than two backends (one must fail while another serves) and absurd bursts', async () => {
    expect((await refusal({backends: '1'})).code).toBe('invalid_backends')
    expect((await refusal({requests: '0'})).code).toBe('invalid_requests')
  })
})
