/**
 * The fast path of bin/run.js (listings without oclif) answers exactly as oclif does: for
 * a corpus of argv and environments, `bin/run.js` and the same CLI forced through oclif
 * (test/helpers/oclif-only.mjs) give byte-identical stdout, stderr and exit code.
 *
 * Both are run for every case the fast path takes, and for a sample of those it leaves to
 * oclif (bin/run.js then runs oclif itself, so those agree by construction; the sample
 * checks that plumbing). Each CLI run costs about a second on a loaded machine, hence not
 * all of them.
 */
import {execFile} from 'node:child_process'
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {fastPathListing} from '../../../src/ui/fast-path.js'
import {BIN, type CliResult} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'

const OCLIF_ONLY = fileURLToPath(new URL('../../helpers/oclif-only.mjs', import.meta.url))
const SEED = fileURLToPath(new URL('../../../bench/seed-state.mjs', import.meta.url))
const dir = tempDir('lbt-fastpath-')
const state = join(dir.path, 'state.db')
const other = join(dir.path, 'other.db')
const corrupt = join(dir.path, 'corrupt.db')

type Env = Record<string, string | undefined>

function childEnv(env: Env): NodeJS.ProcessEnv {
  const base: Env = {PATH: process.env.PATH, HOME: dir.path, LBAAS_STATE: state, LBAAS_RUN_DIR: join(dir.path, 'run')}
  return {...base, ...env} as NodeJS.ProcessEnv
}

function runWith(script: string, argv: readonly string[], env: Env): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...argv], {env: childEnv(env), cwd: dir.path, timeout: 60_000}, (error, stdout, stderr) =>
      resolve({exitCode: error ? Number((error as {code?: unknown}).code ?? 1) : 0, stdout, stderr}),
    )
  })
}

function seed(path: string, pools: number): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [SEED, path, String(pools), '1'], {timeout: 60_000}, (error) => (error ? reject(error) : resolve())),
  )
}

const TOPICS = ['subnet', 'pool', 'monitor', 'vip']
const FLAG_CASES: string[][] = [
  [],
  ['--json'],
  ['-f', 'json'],
  ['-f', 'value'],
  ['-f', 'csv'],
  ['-f', 'yaml'],
  ['-f', 'table'],
  ['-fvalue'],
  ['-f=value'],
  ['--format=csv'],
  ['--format', 'value', '-c', 'id'],
  ['-c', 'id', '-c', 'name'],
  ['-cid'],
  ['-c=id'],
  ['--column=name', '--column', 'id'],
  ['-c', 'nosuch'],
  ['-c', ''],
  ['--column='],
  ['-f', 'json', '-f', 'value'],
  ['--json', '--json'],
  ['--json', '-f', 'value'],
  ['-f', 'value', '--json'],
  ['--format', 'xml'],
  ['-f'],
  ['-f', 'VALUE'],
  ['--state', other, '--state', state],
  ['--state', other],
  ['--state=' + other],
  ['--state='],
  ['--state', ''],
  ['--state', corrupt],
  ['--state', corrupt, '--json'],
  ['--run-dir', join(dir.path, 'r1'), '--run-dir', join(dir.path, 'r2')],
  ['--no-input'],
  ['--no-input', '--no-input'],
  ['--unknown'],
  ['--help'],
  ['-h'],
  ['extra'],
  ['--', '-f', 'value'],
  ['-f', 'value', '-c', 'id', 'name'],
  ['--stat', state],
]
const ENV_CASES: Env[] = [
  {},
  {LBAAS_STATE: ''},
  {LBAAS_STATE: '', LBAAS_RUN_DIR: ''},
  {LBAAS_STATE: other},
  {LBAAS_STATE: corrupt},
  {NO_COLOR: '1'},
  {NO_COLOR: ''},
  {TERM: 'dumb'},
  {LBAAS_DEBUG: '1', LBAAS_STATE: corrupt},
  {CI: '1'},
]

interface Case {
  argv: string[]
  env: Env
}

const corpus: Case[] = [
  ...FLAG_CASES.map((flags) => ({argv: ['pool', 'list', ...flags], env: {}})),
  ...TOPICS.map((topic) => ({argv: [topic, 'list', '-f', 'value', '-c', 'id'], env: {}})),
  ...ENV_CASES.map((env, index) => ({argv: index % 2 ? ['subnet', 'list', '-f', 'value'] : ['pool', 'list', '--json'], env})),
]
const taken = corpus.filter((entry) => fastPathListing(entry.argv, childEnv(entry.env)))
const leftToOclif = corpus.filter((entry) => !taken.includes(entry))
/** The cases the fast path leaves to oclif that the issue names: repeated flags. */
const sample = leftToOclif.filter((entry) => entry.argv.includes('--state') || entry.argv.filter((arg) => arg === '-f').length > 1)
const cases = [...taken, ...sample]

beforeAll(async () => {
  await seed(state, 3)
  await seed(other, 1)
  writeFileSync(corrupt, 'this is not an SQLite database\n'.repeat(10))
  chmodSync(corrupt, 0o600)
}, 120_000)

afterAll(() => dir.cleanup())

describe('fast path and oclif answer alike', () => {
  it('the fast path leaves repeated non-multiple flags, help, unknown flags and debug runs to oclif', () => {
    const leaves = (argv: string[], env: Env = {}) => fastPathListing(['pool', 'list', ...argv], childEnv(env)) === undefined
    expect(leaves(['-f', 'json', '-f', 'value'])).toBe(true)
    expect(leaves(['--state', 'a', '--state', 'b'])).toBe(true)
    expect(leaves(['--json', '--json'])).toBe(true)
    expect(leaves(['--help'])).toBe(true)
    expect(leaves(['--unknown'])).toBe(true)
    expect(leaves([], {LBAAS_DEBUG: '1'})).toBe(true)
    expect(leaves(['-c', 'id', '-c', 'name'])).toBe(false)
    expect(leaves([], {LBAAS_STATE: ''})).toBe(false)
    expect(taken.length).toBeGreaterThan(25)
  })

  it(`for ${cases.length} argv and environments: same stdout, stderr and exit code`, async () => {
    const differences: string[] = []
    let next = 0
    const lane = async () => {
      while (next < cases.length) {
        const {argv, env} = cases[next++]!
        const [fast, oclif] = await Promise.all([runWith(BIN, argv, env), runWith(OCLIF_ONLY, argv, env)])
        if (fast.exitCode !== oclif.exitCode || fast.stdout !== oclif.stdout || fast.stderr !== oclif.stderr) {
          differences.push(
            `${JSON.stringify(env)} lbaas ${JSON.stringify(argv)}\n  fast:  ${fast.exitCode} ${JSON.stringify(fast.stdout.slice(0, 300))} ${JSON.stringify(fast.stderr.slice(0, 300))}\n  oclif: ${oclif.exitCode} ${JSON.stringify(oclif.stdout.slice(0, 300))} ${JSON.stringify(oclif.stderr.slice(0, 300))}`,
          )
        }
      }
    }
    await Promise.all(Array.from({length: 4}, lane))
    expect(differences.join('\n')).toBe('')
  }, 600_000)
})
