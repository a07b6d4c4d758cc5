import {describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/domain/errors.js'
import {cellText, formatList, formatObject, type OutputOptions} from '../../../src/ui/format.js'

const options = (format: OutputOptions['format'], columns: string[] = []): OutputOptions => ({format, columns, color: false})
const pool = {id: 'p1', name: 'web, tier', members: ['m1', 'm2'], vip_id: null, admin_state_up: true, session_persistence: {type: 'SOURCE_IP'}}

describe('formatObject', () => {
  it('prints exactly the object as JSON', async () => {
    expect(JSON.parse(await formatObject(pool, options('json')))).toEqual(pool)
  })
  it('narrows to -c columns in the order given', async () => {
    expect(JSON.parse(await formatObject(pool, options('json', ['name', 'id'])))).toEqual({name: 'web, tier', id: 'p1'})
    expect(await formatObject(pool, options('value', ['id']))).toBe('p1\n')
  })
  it('prints bare values, lists space-separated, null empty', async () => {
    expect(await formatObject(pool, options('value', ['members', 'vip_id', 'admin_state_up']))).toBe('m1 m2\n\ntrue\n')
  })
  it('quotes CSV fields that need it', async () => {
    expect(await formatObject(pool, options('csv', ['id', 'name']))).toBe('id,name\np1,"web, tier"\n')
  })
  it('draws a Field/Value table without colour codes off a TTY', async () => {
    const table = await formatObject(pool, options('table'))
    expect(table).toMatch(/Field.*Value/)
    expect(table).toContain('web, tier')
    expect(table).not.toContain('\u001B[')
  })
  it('yaml round-trips', async () => {
    const {parse} = await import('yaml')
    expect(parse(await formatObject(pool, options('yaml')))).toEqual(pool)
  })
  it('rejects an unknown column with the choices', async () => {
    await expect(formatObject(pool, options('value', ['nope']))).rejects.toThrow(UsageError)
    await expect(formatObject(pool, options('value', ['nope']))).rejects.toThrow(/choose from id, name/)
  })
})

describe('formatList', () => {
  const rows = [pool, {...pool, id: 'p2', name: 'api'}]
  it('prints [] for an empty list', async () => {
    expect(await formatList([], ['id'], options('json'))).toBe('[]\n')
    expect(await formatList([], ['id'], options('value'))).toBe('')
  })
  it('uses default columns in tables but every field in JSON', async () => {
    const table = await formatList(rows, ['id', 'name'], options('table'))
    expect(table).toContain('api')
    expect(table).not.toContain('SOURCE_IP')
    expect(JSON.parse(await formatList(rows, ['id'], options('json')))).toEqual(rows)
  })
  it('-f value -c id prints one id per line', async () => {
    expect(await formatList(rows, ['id', 'name'], options('value', ['id']))).toBe('p1\np2\n')
  })
})

describe('cellText', () => {
  it('renders lists, objects and null', () => {
    expect(cellText(['a', 'b'])).toBe('a\nb')
    expect(cellText({type: 'SOURCE_IP'})).toBe('{"type":"SOURCE_IP"}')
    expect(cellText(null)).toBe('')
    expect(cellText([{pool_id: 'p', status: 'ACTIVE'}], ' ')).toBe('{"pool_id":"p","status":"ACTIVE"}')
  })
})
