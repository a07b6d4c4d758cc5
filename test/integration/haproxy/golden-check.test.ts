/**
 * Every golden configuration, and every golden pool rendered with real paths, passes the
 * real `haproxy -c` (HAProxy 2.6).
 */
import {mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {renderConfig} from '../../../src/haproxy/render.js'
import {EMPTY_SERVER_STATE} from '../../../src/haproxy/stats.js'
import {buildPoolView} from '../../../src/haproxy/view.js'
import {POOL_ID, samplePoolGraph, sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {GOLDEN_CASES} from '../../helpers/haproxy-goldens.js'
import {run} from '../../helpers/haproxy-process.js'
import {tempDir} from '../../helpers/tmp.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/haproxy/', import.meta.url))
const goldenFiles = readdirSync(FIXTURES).filter((file) => file.endsWith('.cfg'))

function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.includes('[WARNING]'))
}

describe.skipIf(process.env.LBAAS_SKIP_INTEGRATION === '1')('haproxy -c on the rendered configurations', () => {
  const dir = tempDir('lbt-golden-')
  afterAll(() => dir.cleanup())

  it('has a golden file for every case and a case for every golden file', () => {
    expect(goldenFiles.sort()).toEqual(GOLDEN_CASES.map((golden) => golden.file).sort())
  })

  for (const file of goldenFiles) {
    it(`${file} is valid (exit 0); the only warning is the state file that does not exist at the golden path`, async () => {
      const result = await run(['haproxy', '-c', '-f', join(FIXTURES, file)])
      expect(result.exitCode, result.stderr).toBe(0)
      expect(warnings(result.stderr)).toHaveLength(1)
      expect(warnings(result.stderr)[0]).toMatch(/Can't open global server state file/)
    })
  }

  for (const golden of GOLDEN_CASES) {
    it(`${golden.file} rendered with real paths (a space and # in the run dir) is valid without any warning`, async () => {
      const runDir = join(dir.path, 'run dir #1', POOL_ID)
      mkdirSync(runDir, {recursive: true, mode: 0o700})
      writeFileSync(join(runDir, 'server-state'), EMPTY_SERVER_STATE, {mode: 0o600})
      const view = buildPoolView(golden.graph, sampleRenderOptions({statsSocket: join(runDir, 'stats.sock'), serverStateFile: join(runDir, 'server-state')}))
      const configPath = join(runDir, `${golden.file}`)
      writeFileSync(configPath, renderConfig(view))
      const result = await run(['haproxy', '-c', '-f', configPath])
      expect(result.exitCode, result.stderr).toBe(0)
      expect(warnings(result.stderr)).toEqual([])
    })
  }

  it('a pool without a VIP is still valid (exit 0, not 2): the stats socket counts as a listener', async () => {
    const configPath = join(dir.path, 'no-vip.cfg')
    writeFileSync(configPath, renderConfig(buildPoolView(samplePoolGraph({vip: null}), sampleRenderOptions())))
    const result = await run(['haproxy', '-c', '-f', configPath])
    expect(result.exitCode, result.stderr).toBe(0)
  })

  it('HAProxy rejects what the renderer would never write (the check is real)', async () => {
    const configPath = join(dir.path, 'broken.cfg')
    writeFileSync(configPath, `${renderConfig(buildPoolView(samplePoolGraph(), sampleRenderOptions()))}    appsession JSESSIONID len 56 timeout 3h\n`)
    const result = await run(['haproxy', '-c', '-f', configPath])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toMatch(/appsession/)
  })
})
