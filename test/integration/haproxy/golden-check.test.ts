/**
 * Every golden configuration, and every golden pool rendered with real paths, passes the
 * real `haproxy -c` (HAProxy 2.6).
 */
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {renderConfig} from '../../../src/haproxy/render.js'
import {EMPTY_SERVER_STATE} from '../../../src/haproxy/stats.js'
import {buildPoolView, certificateFile, crtListFile} from '../../../src/haproxy/view.js'
import {renderCrtList} from '../../../src/haproxy/render.js'
import {CertLab} from '../../helpers/certs.js'
import {POOL_ID, samplePoolGraph, sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {GOLDEN_CASES, GOLDEN_CERT_DIR, GOLDEN_CERTS} from '../../helpers/haproxy-goldens.js'
import {run} from '../../helpers/haproxy-process.js'
import {tempDir} from '../../helpers/tmp.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/haproxy/', import.meta.url))
const goldenFiles = readdirSync(FIXTURES).filter((file) => file.endsWith('.cfg'))

function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.includes('[WARNING]'))
}

describe.skipIf(process.env.LBAAS_SKIP_INTEGRATION === '1')('haproxy -c on the rendered configurations', () => {
  const dir = tempDir('lbt-golden-')
  const certs = new CertLab()
  afterAll(() => {
    dir.cleanup()
    certs.cleanup()
  })

  /** Real certificate files (for the golden certificates' ids and SANs) and a crt-list in `certDir`. */
  function writeGoldenCerts(certDir: string): void {
    mkdirSync(certDir, {recursive: true, mode: 0o700})
    for (const golden of GOLDEN_CERTS) {
      const made = certs.issue('golden', {sans: golden.sans})
      writeFileSync(certificateFile(certDir, golden.id), made.cert + certs.chain + made.key, {mode: 0o600})
    }
    const view = buildPoolView(GOLDEN_CASES[0].graph, sampleRenderOptions({certDir}))
    writeFileSync(crtListFile(certDir), renderCrtList(view.crtList!), {mode: 0o600})
  }

  /** A golden file naming certificates reads them from a scratch directory instead of the golden path. */
  function checkableGolden(file: string): string {
    const text = readFileSync(join(FIXTURES, file), 'utf8')
    if (!text.includes(GOLDEN_CERT_DIR)) return join(FIXTURES, file)
    const certDir = join(dir.path, 'golden-tls')
    writeGoldenCerts(certDir)
    const copy = join(dir.path, file)
    writeFileSync(copy, text.replaceAll(GOLDEN_CERT_DIR, certDir))
    return copy
  }

  it('has a golden file for every case and a case for every golden file', () => {
    expect(goldenFiles.sort()).toEqual(GOLDEN_CASES.map((golden) => golden.file).sort())
  })

  for (const file of goldenFiles) {
    it(`${file} is valid (exit 0); the only warning is the state file that does not exist at the golden path`, async () => {
      const result = await run(['haproxy', '-c', '-f', checkableGolden(file)])
      expect(result.exitCode, result.stderr).toBe(0)
      expect(warnings(result.stderr)).toHaveLength(1)
      expect(warnings(result.stderr)[0]).toMatch(/Can't open global server state file/)
    })
  }

  for (const golden of GOLDEN_CASES) {
    it(`${golden.file} rendered with real paths (a space and # in the run dir) is valid without any warning`, async () => {
      // Certificate paths are refused with a space or # (crt-list lines cannot quote them).
      const tls = golden.graph.certs.length > 0
      const runDir = join(dir.path, tls ? 'run-dir-tls' : 'run dir #1', POOL_ID)
      mkdirSync(runDir, {recursive: true, mode: 0o700})
      writeFileSync(join(runDir, 'server-state'), EMPTY_SERVER_STATE, {mode: 0o600})
      if (tls) writeGoldenCerts(join(runDir, 'tls'))
      const view = buildPoolView(
        golden.graph,
        sampleRenderOptions({statsSocket: join(runDir, 'stats.sock'), serverStateFile: join(runDir, 'server-state'), certDir: join(runDir, 'tls')}),
      )
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
