import {describe, expect, it} from 'vitest'

import {MissingValueError} from '../../../src/domain/errors.js'
import {equivalentCommand, Guide, nothingGiven} from '../../../src/ui/guide.js'
import {inlineValidation} from '../../../src/ui/prompts.js'
import * as rules from '../../../src/domain/validation.js'

describe('equivalentCommand', () => {
  it('puts positionals first, skips unset and false flags, and quotes for the shell', async () => {
    const line = await equivalentCommand('lbaas', ['vip', 'create'], ['web pool'], {
      name: 'web-vip',
      description: "it's ours",
      address: undefined,
      'admin-state-down': false,
      'connection-limit': '-1',
      json: true,
      column: ['id', 'name'],
    })
    expect(line).toBe(`lbaas vip create 'web pool' --name web-vip --description 'it'\\''s ours' --connection-limit=-1 --json --column id --column name`)
  })
})

describe('Guide', () => {
  it('returns given values without asking, also for optional fields outside guided mode', async () => {
    const guide = new Guide(false, false)
    expect(await guide.required('name', 'web', {kind: 'input', message: 'Name'})).toBe('web')
    expect(await guide.optional(undefined, {kind: 'input', message: 'Description'})).toBeUndefined()
    expect(await guide.optional('kept', {kind: 'input', message: 'Description'})).toBe('kept')
    expect(guide.askedAnything).toBe(false)
  })

  it('off a terminal, a missing flag or argument is a MissingValueError naming it', async () => {
    const guide = new Guide(false, false)
    const flag = await guide.required('lb-method', undefined, {kind: 'input', message: 'x'}).catch((error: unknown) => error)
    expect(flag).toBeInstanceOf(MissingValueError)
    expect(flag).toMatchObject({code: 'missing_lb_method', exit: 2, message: 'missing required flag --lb-method'})
    const positional = await guide.required('pool', undefined, {kind: 'input', message: 'x'}, {positional: true}).catch((error: unknown) => error)
    expect(positional).toMatchObject({code: 'missing_pool', message: 'missing required argument POOL'})
  })

  it('a question is built only when it is asked', async () => {
    let built = 0
    const guide = new Guide(false, false)
    await guide.required('subnet', 'lab', () => {
      built++
      return {kind: 'input', message: 'Subnet'}
    })
    expect(built).toBe(0)
  })

  it('nothingGiven ignores unset values, false booleans and empty lists', () => {
    expect(nothingGiven({name: undefined, 'admin-state-down': false, column: []})).toBe(true)
    expect(nothingGiven({name: 'web'})).toBe(false)
    expect(nothingGiven({'admin-state-down': true})).toBe(false)
  })
})

describe('inline validation', () => {
  it("shows the flag's own message for a bad value and accepts a good one", () => {
    const check = inlineValidation(rules.protocolPort)
    expect(check('70000')).toBe('protocol_port must be between 1 and 65535')
    expect(check('8000')).toBe(true)
    expect(check('')).toBe('a value is required')
    expect(inlineValidation(rules.protocolPort, true)('')).toBe(true)
  })
})
