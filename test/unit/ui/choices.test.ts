import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip} from '../../../src/service/vips.js'
import {freeNetworkSuggestion, poolChoices, subnetChoices, subnetReference} from '../../../src/ui/choices.js'
import {testContext} from '../../helpers/context.js'

let ctx: ReturnType<typeof testContext>
beforeEach(() => {
  ctx = testContext()
})
afterEach(() => ctx.cleanup())

describe('what guided creation offers', () => {
  it('with nothing to offer, says which command makes the first one', () => {
    expect(() => subnetChoices(ctx)).toThrow(expect.objectContaining({code: 'not_found', suggestion: expect.stringContaining('lbaas subnet create')}))
    expect(() => poolChoices(ctx)).toThrow(expect.objectContaining({code: 'not_found', suggestion: expect.stringContaining('lbaas pool create')}))
  })

  it('offers subnets and pools by name, by id where the name is ambiguous', async () => {
    const lab = await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    const first = await createPool(ctx, {name: 'twin', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    const second = await createPool(ctx, {name: 'twin', subnet: 'lab', protocol: 'TCP', lb_method: 'SOURCE_IP'})
    await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    expect(subnetChoices(ctx)).toEqual([expect.objectContaining({value: 'lab', name: 'lab  198.18.0.0/24'})])
    expect(subnetReference(ctx, lab.id)).toBe('lab')
    expect(poolChoices(ctx).map((choice) => choice.value)).toEqual([first.id, second.id, 'web'])
    expect(poolChoices(ctx)[2].name).toBe('web  HTTP ROUND_ROBIN, 0 members')
  })

  it('for a VIP, offers only pools without one', async () => {
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    await createPool(ctx, {name: 'served', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    await createVip(ctx, 'served', {name: 'v', protocol: 'HTTP', protocol_port: '80', subnet: 'lab'})
    expect(() => poolChoices(ctx, {withoutVip: true})).toThrow('every pool already has a VIP')
    await createPool(ctx, {name: 'spare', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    expect(poolChoices(ctx, {withoutVip: true}).map((choice) => choice.value)).toEqual(['spare'])
  })

  it('suggests the first 198.18.x.0/24 no subnet overlaps', async () => {
    expect(freeNetworkSuggestion(ctx)).toBe('198.18.0.0/24')
    await createSubnet(ctx, {name: 'a', cidr: '198.18.0.0/23'})
    await createSubnet(ctx, {name: 'b', cidr: '198.18.2.128/25'})
    expect(freeNetworkSuggestion(ctx)).toBe('198.18.3.0/24')
  })
})
