/**
 * The import rules of DESIGN.md (.dependency-cruiser.cjs) over src/ and commands/: a
 * forbidden import fails the unit project, not a reviewer's memory.
 */
import {rmSync, writeFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {uniqueSuffix} from '../helpers/unique.js'

interface Violation {
  from: string
  to: string
  rule: {name: string}
  cycle?: {name: string}[]
}

async function cruiseWithRules(paths: string[]): Promise<Violation[]> {
  const [{cruise}, {default: extractDepcruiseOptions}, {default: extractTSConfig}] = await Promise.all([
    import('dependency-cruiser'),
    import('dependency-cruiser/config-utl/extract-depcruise-options'),
    import('dependency-cruiser/config-utl/extract-ts-config'),
  ])
  const options = await extractDepcruiseOptions('./.dependency-cruiser.cjs')
  const result = await cruise(paths, options, undefined, {tsConfig: extractTSConfig('tsconfig.json')})
  if (typeof result.output === 'string') throw new Error('dependency-cruiser returned text, not a result')
  return result.output.summary.violations as Violation[]
}

const describeViolation = (violation: Violation) =>
  `${violation.rule.name}: ${violation.from} → ${violation.cycle?.map((step) => step.name).join(' → ') ?? violation.to}`

describe('the import rules', () => {
  it('hold for src/ and commands/', async () => {
    const violations = await cruiseWithRules(['src', 'commands'])
    expect(violations.map(describeViolation)).toEqual([])
  }, 120_000)

  it('catch a forbidden import (a domain module reading a file, a service running a program, directly or through host/run.ts)', async () => {
    const suffix = uniqueSuffix()
    const domainProbe = `src/domain/probe-${suffix}.ts`
    const serviceProbe = `src/service/probe-${suffix}.ts`
    try {
      writeFileSync(domainProbe, "import {readFileSync} from 'node:fs'\nimport {openStore} from '../store/db.js'\nexport const probe = [readFileSync, openStore]\n")
      writeFileSync(serviceProbe, "import {execFileSync} from 'node:child_process'\nimport {run} from '../host/run.js'\nexport const probe = [execFileSync, run]\n")
      const rules = (await cruiseWithRules([domainProbe, serviceProbe])).map((violation) => `${violation.rule.name} ${violation.from}`)
      expect(rules).toEqual(expect.arrayContaining([
        `domain-no-io ${domainProbe}`,
        `domain-imports-nothing ${domainProbe}`,
        `only-host-runs-programs ${serviceProbe}`,
        `services-decide-host-acts ${serviceProbe}`,
      ]))
    } finally {
      rmSync(domainProbe, {force: true})
      rmSync(serviceProbe, {force: true})
    }
  }, 120_000)
})
