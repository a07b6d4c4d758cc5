/** `lbaas demo --ha` refuses before it changes or starts anything (the run itself is an integration test). */
import {describe, expect, it} from 'vitest'

import {LbaasError} from '../../../src/domain/errors.js'
import {runHaDemo, type HaDemoInput} from '../../../src/service/demo-ha.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {type RecordingExecutor, refusedBeforeTheHost, type TestContext, useRecordingContext} from '../../helpers/context.js'

let executor: RecordingExecutor
let ctx: TestContext
useRecordingContext((made) => ({ctx, executor} = made))

async function refusal(input: Partial<HaDemoInput>): Promise<LbaasError> {
  return refusedBeforeTheHost(executor, () => runHaDemo(ctx, {uid: 0, cli: ['/nonexistent/lbaas'], ...input}))
}

describe('lbaas demo --ha refuses', () => {
  it('without root', async () => {
    expect((await refusal({uid: 1000})).code).toBe('needs_root')
  })

  it('--keep, --tls and --backends: it always cleans up, on a lab of two', async () => {
    expect((await refusal({keep: true})).code).toBe('invalid_keep')
    expect((await refusal({tls: true})).code).toBe('invalid_tls')
    expect((await refusal({backends: '3'})).code).toBe('invalid_backends')
  })

  it('a lab subnet that pools use', async () => {
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    await createPool(ctx, {name: 'mine', subnet: 'lab', protocol: 'TCP', lb_method: 'ROUND_ROBIN'})
    expect((await refusal({})).code).toBe('in_use')
  })

  it('a pool demo-ha left behind', async () => {
    await createSubnet(ctx, {name: 'other', cidr: '198.18.3.0/24'})
    await createPool(ctx, {name: 'demo-ha', subnet: 'other', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    const error = await refusal({})
    expect(error.code).toBe('duplicate_name')
    expect(error.suggestion).toContain('lbaas pool delete demo-ha --yes')
  })
})
