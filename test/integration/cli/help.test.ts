/**
 * Help text of the built CLI: `lbaas` alone (the workflow, in order), every topic and every
 * command, compared with snapshots under test/fixtures/help/ (update with `vitest -u` after
 * an intended change). Every command has a summary and examples, and every example names
 * flags and arguments the command really has.
 */
import {describe, expect, it} from 'vitest'

import {lbaas} from '../../helpers/cli.js'
import {checkCommandLine, lbaasInvocations, loadManifest} from '../../helpers/manifest.js'

const manifest = loadManifest()
const ids = Object.keys(manifest).sort()
const topics = [...new Set(ids.filter((id) => id.includes(':')).map((id) => id.split(':')[0]))].sort()
// Help wraps at the terminal width: fixed, so the snapshots do not depend on where tests run.
const env = {OCLIF_COLUMNS: '100'}

function exampleLines(id: string): string[] {
  return (manifest[id].examples ?? []).map((example) => (typeof example === 'string' ? example : (example as {command: string}).command))
}

async function help(args: string[]): Promise<string> {
  const result = await lbaas(args, {env})
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
  return result.stdout
}

describe('help', () => {
  it('lbaas with no arguments prints the topics and the workflow in order', async ({expect}) => {
    const text = await help([])
    await expect(text).toMatchFileSnapshot('../../fixtures/help/lbaas.txt')
    expect(await help(['--help'])).toBe(text)
    const steps = ['subnet create', 'pool create', 'member create', 'monitor create', 'monitor associate', 'vip create', 'status']
    const positions = steps.map((step) => text.indexOf(`lbaas ${step}`))
    expect(positions.every((position) => position > text.indexOf('THE WORKFLOW'))).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    const topicSection = text.slice(text.indexOf('TOPICS'), text.indexOf('COMMANDS'))
    const order = ['lab', 'subnet', 'pool', 'member', 'monitor', 'vip'].map((topic) => topicSection.indexOf(`\n  ${topic} `))
    expect(order.every((position) => position > 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
  })

  it.concurrent.for(topics)('lbaas %s lists its commands', async (topic, {expect}) => {
    const text = await help([topic, '--help'])
    await expect(text).toMatchFileSnapshot(`../../fixtures/help/topic-${topic}.txt`)
    for (const id of ids.filter((candidate) => candidate.startsWith(`${topic}:`))) expect(text).toContain(id.replace(':', ' '))
  })

  it.concurrent.for(ids)('%s --help: summary, examples, snapshot', async (id, {expect}) => {
    expect(manifest[id].summary, 'a summary').toBeTruthy()
    expect(exampleLines(id).length, 'at least one example').toBeGreaterThan(0)
    const text = await help([...id.split(':'), '--help'])
    expect(text).toContain('EXAMPLES')
    await expect(text).toMatchFileSnapshot(`../../fixtures/help/${id.replaceAll(':', '-')}.txt`)
  })

  it.each(ids)('%s: every example uses the command, its flags and its arguments', (id) => {
    for (const line of exampleLines(id)) {
      const invocations = lbaasInvocations(line.replace('<%= config.bin %>', 'lbaas'))
      expect(invocations.length, line).toBeGreaterThan(0)
      expect(invocations[0].slice(0, id.split(':').length).join(':'), line).toBe(id)
      for (const argv of invocations) expect(checkCommandLine(manifest, argv), line).toEqual([])
    }
  })
})
