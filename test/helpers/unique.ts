import {execFileSync} from 'node:child_process'
import {mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'

import {isAlive} from '../../src/host/proc.js'

/**
 * Unique names for test resources: other workloads may share the machine, and test
 * files run in parallel. Namespaces and links made directly by tests start with `lbt`.
 */
export function uniqueSuffix(length = 6): string {
  return randomBytes(8).toString('hex').slice(0, length)
}

const CIDR_CLAIMS = '/tmp/lbaas-test-cidrs'

/** The /24s (as `a.b.c`) of 198.18.0.0/15 that some route of the host's already reaches. */
function routedTestBases(): Set<string> {
  const routes = execFileSync('ip', ['-o', '-4', 'route', 'show', 'table', 'all'], {encoding: 'utf8'})
  const bases = new Set<string>()
  for (const [, second, third, length] of routes.matchAll(/\b198\.(1[89])\.(\d+)\.\d+(?:\/(\d+))?/g)) {
    const first = (Number(second) - 18) * 256 + Number(third)
    const span = 2 ** Math.max(0, 24 - Math.max(15, Number(length ?? 32)))
    const from = first - (first % span)
    for (let index = from; index < from + span; index++) bases.add(`198.${18 + (index >> 8)}.${index & 0xff}`)
  }
  return bases
}

/**
 * Claims a /24 inside 198.18.0.0/15 (the benchmarking range) that no other running test
 * holds, so two bridges never carry the same subnet. A /24 the host already routes (a bridge
 * some killed run or other workload left) is passed over too: a second route to it would
 * send the test's traffic to the older bridge. Release it in afterAll.
 */
export function claimTestCidr(): {cidr: string; base: string; release: () => void} {
  mkdirSync(CIDR_CLAIMS, {recursive: true, mode: 0o700})
  for (const entry of readdirSync(CIDR_CLAIMS)) {
    try {
      const owner = Number(readFileSync(`${CIDR_CLAIMS}/${entry}/pid`, 'utf8'))
      if (!isAlive(owner)) rmSync(`${CIDR_CLAIMS}/${entry}`, {recursive: true, force: true})
    } catch {
      // No pid file: a claim being made right now (mkdir, then the pid) or a crashed one.
      const made = statSync(`${CIDR_CLAIMS}/${entry}`, {throwIfNoEntry: false})?.mtimeMs
      if (made !== undefined && Date.now() - made > 10_000) rmSync(`${CIDR_CLAIMS}/${entry}`, {recursive: true, force: true})
    }
  }
  const routed = routedTestBases()
  const start = Math.floor(Math.random() * 500) + 8
  for (let i = 0; i < 500; i++) {
    const index = ((start + i) % 500) + 8 // 198.18.8.0 … 198.19.251.0; the lowest /24s stay for the lab default
    const base = `198.${18 + (index >> 8)}.${index & 0xff}`
    if (routed.has(base)) continue
    const claim = `${CIDR_CLAIMS}/${base}`
    try {
      mkdirSync(claim)
    } catch {
      continue
    }
    writeFileSync(`${claim}/pid`, String(process.pid))
    return {cidr: `${base}.0/24`, base, release: () => rmSync(claim, {recursive: true, force: true})}
  }
  throw new Error('no free test /24 in 198.18.0.0/15')
}
