import {describe, expect, it} from 'vitest'

import {parseGlobalFlags, runFastPath} from '../../../src/ui/fast-path.js'

describe('parseGlobalFlags (what the fast path takes from oclif)', () => {
  it('reads the global flags in every spelling oclif accepts', () => {
    expect(parseGlobalFlags(['-f', 'value', '-c', 'id', '-cname'])).toEqual({format: 'value', columns: ['id', 'name']})
    expect(parseGlobalFlags(['--format=csv', '--column', 'id', '--state', '/s.db', '--run-dir=/r', '--no-input'])).toEqual({
      format: 'csv',
      columns: ['id'],
      state: '/s.db',
      runDir: '/r',
    })
    expect(parseGlobalFlags(['-fyaml'])).toEqual({format: 'yaml', columns: []})
    expect(parseGlobalFlags(['--json', '-c', 'id'])).toEqual({format: 'json', columns: ['id']})
  })

  it('leaves everything else to oclif', () => {
    for (const argv of [['--help'], ['-h'], ['--name', 'x'], ['extra'], ['-f', 'xml'], ['-f'], ['--state'], ['-c', '--json'], ['--colour']]) {
      expect(parseGlobalFlags(argv), argv.join(' ')).toBeUndefined()
    }
  })
})

describe('runFastPath', () => {
  it('takes only the plain listings', async () => {
    for (const argv of [['pool', 'show', 'web'], ['member', 'list'], ['pool', 'list', '--help'], ['status'], [], ['pool']]) {
      expect(await runFastPath(argv), argv.join(' ')).toBeUndefined()
    }
  })
})
