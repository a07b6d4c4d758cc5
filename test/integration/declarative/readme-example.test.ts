/**
 * Issue 12's "Done when": the README's example apply file (section "Provisioning from a
 * file"), read from README.md itself, applies from nothing, a second apply changes nothing,
 * `lbaas plan` after the README's edit says what the README says, and `lbaas export`
 * gives back a file that applies as "no changes". Only the lab is the test's own: its
 * subnet name and /24 replace `lab` and 198.18.0.0/24.
 */
import {readFileSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {backendsSeen, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('readme')
const file = `${world.dir}/shop.yaml`
let lab: LabInfo
let example: string

/** The first ```yaml block after the "Provisioning from a file" heading. */
function readmeExample(): string {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('## Provisioning from a file'))
  const block = /```yaml\n([\s\S]*?)```/.exec(section)
  if (!block) throw new Error('README.md has no yaml block under "Provisioning from a file"')
  return block[1]
}

beforeAll(async () => {
  lab = await world.lab(3)
  example = readmeExample()
    .replace(/\bsubnet: lab\b/g, `subnet: ${lab.subnet}`)
    .replaceAll('198.18.0.', `${lab.base}.`)
  writeFileSync(file, example)
})

afterAll(async () => {
  await world.cleanup()
})

describe("the README's apply file", () => {
  it('applies from nothing: both pools deployed, the VIPs at .2 and .3 answer from their members', async () => {
    expect(example).toContain('stack: shop')
    const applied = await world.cli.run(['apply', '-f', file])
    expect(applied.exitCode, applied.stderr).toBe(0)
    const vips = await world.cli.json<{name: string; address: string; status: string}[]>(['vip', 'list', '--json'])
    expect(vips.map((vip) => [vip.name, vip.address, vip.status]).sort()).toEqual([
      ['api-vip', `${lab.base}.3`, 'ACTIVE'],
      ['web-vip', `${lab.base}.2`, 'ACTIVE'],
    ])
    const web = await tally(`${lab.base}.2`, 80, 8)
    expect(web.errors).toEqual([])
    expect(backendsSeen(web).sort()).toEqual([lab.backend(1).name, lab.backend(2).name].sort())
    const api = await tally(`${lab.base}.3`, 8080, 3)
    expect(api.errors).toEqual([])
    expect(backendsSeen(api)).toEqual([lab.backend(3).name])
  })

  it('a second apply changes nothing', async () => {
    const again = await world.cli.run(['apply', '-f', file])
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toMatch(/^no changes: the state matches the file/m)
  })

  it("lbaas plan after the README's edit prints the README's plan", async () => {
    const edited = `${world.dir}/shop-edited.yaml`
    const text = example.replace(/(name: web\n(?:.*\n)*?\s+lb_method: )ROUND_ROBIN/, '$1LEAST_CONNECTIONS').replace('protocol_port: 8000, weight: 3}', 'protocol_port: 8000, weight: 2}')
    expect(text).not.toBe(example)
    writeFileSync(edited, text)
    const plan = await world.cli.run(['plan', '-f', edited, '--detailed-exitcode'])
    expect(plan.exitCode, plan.stderr).toBe(6)
    expect(plan.stdout).toContain('~ pool web: update (host: reload)')
    expect(plan.stdout).toContain('lb_method: ROUND_ROBIN → LEAST_CONNECTIONS')
    expect(plan.stdout).toContain(`~ member web/${lab.base}.12:8000: update`)
    expect(plan.stdout).toContain('weight: 3 → 2')
    expect(plan.stdout).toContain('Plan: 0 to create, 2 to update, 0 to delete, 0 to adopt; pools on the host: 1 reload.')
  })

  it('exports back to a file with the same pools, which applies as "no changes"', async () => {
    const exported = await world.cli.run(['export', '--stack', 'shop'])
    expect(exported.exitCode, exported.stderr).toBe(0)
    const back = parse(exported.stdout) as {stack: string; pools: {name: string; members: {address: string}[]}[]}
    expect(back.stack).toBe('shop')
    expect(back.pools.map((pool) => [pool.name, pool.members.map((member) => member.address).sort()]).sort()).toEqual([
      ['api', [`${lab.base}.13`]],
      ['web', [`${lab.base}.11`, `${lab.base}.12`]],
    ])
    const reapplied = await world.cli.run(['apply', '-f', '-'], {input: exported.stdout})
    expect(reapplied.exitCode, reapplied.stderr).toBe(0)
    expect(reapplied.stdout).toMatch(/^no changes/m)
  })
})
