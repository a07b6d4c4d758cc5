/**
 * Test-only crash points: `crashPoint(name)` kills this process with SIGKILL (no cleanup,
 * no `finally`, like a power cut) when `LBAAS_TEST_CRASH_AT` names it. The test suite
 * uses them to stop a command at every step of the deploy pipeline (SPEC §4.3) and of
 * the delete flows, then checks that `lbaas sync` (or a restarted `serve-worker`) makes
 * the host match the state file again.
 *
 * `LBAAS_TEST_CRASH_AT=NAME` crashes the first time NAME is reached; `NAME:N` the N-th
 * time (a long-running worker reaches a step once per job). Without the variable this is
 * one environment lookup per step.
 */

/** Every crash point, by the flow that reaches it; the tests iterate over this list. */
export const CRASH_POINTS = {
  // SPEC §4.3 deploy pipeline (LocalExecutor.deployProcess), in order.
  'deploy-after-render': 'deploy',
  'deploy-after-write-new': 'deploy',
  'deploy-after-validate': 'deploy',
  'deploy-after-plug': 'deploy',
  'deploy-after-save-state': 'deploy',
  'deploy-after-rename': 'deploy',
  'deploy-after-start': 'deploy-start',
  'deploy-after-reload': 'deploy-reload',
  // apply.ts: the host is in the new state, the state file not yet.
  'deploy-before-mark-active': 'deploy',
  // LocalExecutor.removeProcess (VIP delete, pool delete, sync's orphan removal).
  'undeploy-after-stop': 'undeploy',
  'undeploy-after-unplug': 'undeploy',
  // Delete flows of the services.
  'vip-delete-after-pending': 'vip-delete',
  'vip-delete-before-row-removed': 'vip-delete',
  'pool-delete-after-row-removed': 'pool-delete',
  // lbaas apply (SPEC §8.2): rows committed, no pool converged; one pool converged, not the rest.
  'apply-after-commit': 'apply',
  'apply-after-pool': 'apply',
  // serve-worker's Libra UPDATE: deployed, not yet recorded as the device's configuration.
  'worker-update-before-record': 'worker',
} as const

export type CrashPoint = keyof typeof CRASH_POINTS

const reached = new Map<string, number>()

export function crashPoint(name: CrashPoint): void {
  const wanted = process.env.LBAAS_TEST_CRASH_AT
  if (wanted === undefined) return
  const [point, nth = '1'] = wanted.split(':')
  if (point !== name) return
  const count = (reached.get(name) ?? 0) + 1
  reached.set(name, count)
  if (count === Number(nth)) process.kill(process.pid, 'SIGKILL')
}

/**
 * Test-only pause points: with `LBAAS_TEST_PAUSE_AT=NAME:GATE`, reaching NAME writes
 * `GATE.reached` and waits (at most 60 s) until the file GATE exists, so a test can run
 * another command at exactly that moment (e.g. a `vip create` between sync's read of the
 * state file and its look at the host). Without the variable: one environment lookup.
 */
export async function pausePoint(name: 'sync-after-state-read'): Promise<void> {
  const wanted = process.env.LBAAS_TEST_PAUSE_AT
  if (wanted === undefined) return
  const colon = wanted.indexOf(':')
  if (colon < 0 || wanted.slice(0, colon) !== name) return
  const gate = wanted.slice(colon + 1)
  const {existsSync, writeFileSync} = await import('node:fs')
  const {setTimeout: sleep} = await import('node:timers/promises')
  writeFileSync(`${gate}.reached`, '')
  const deadline = Date.now() + 60_000
  while (!existsSync(gate) && Date.now() < deadline) await sleep(20)
}
