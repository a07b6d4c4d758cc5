import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'

/**
 * Integration tests use the real programs. They are skipped only when
 * LBAAS_SKIP_INTEGRATION=1; otherwise a missing prerequisite fails the run with what to install.
 */
export default function setup(): void {
  const problems: string[] = []
  if (process.getuid?.() !== 0) problems.push('integration tests need root (network namespaces, bridges)')
  for (const [program, fix] of [
    ['haproxy', 'apt-get install haproxy'],
    ['ip', 'apt-get install iproute2'],
    ['gearmand', 'apt-get install gearman-job-server'],
    ['gearman', 'apt-get install gearman-tools'],
    ['curl', 'apt-get install curl'],
    ['openssl', 'apt-get install openssl'],
    ['keepalived', 'apt-get install keepalived'],
    ['promtool', 'apt-get install prometheus'],
    ['arping', 'apt-get install iputils-arping'],
  ]) {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', program], {stdio: 'ignore'})
    } catch {
      problems.push(`${program} is missing: ${fix}`)
    }
  }
  if (process.env.LBAAS_SKIP_GLOBAL_CHECK !== '1' && !existsSync(new URL('../../dist/commands', import.meta.url))) {
    problems.push('the CLI is not built: run `npm run build` (npm test does it)')
  }
  if (problems.length > 0) {
    throw new Error(`integration prerequisites missing (set LBAAS_SKIP_INTEGRATION=1 to skip):\n  ${problems.join('\n  ')}`)
  }
}
