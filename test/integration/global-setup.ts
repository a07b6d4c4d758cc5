import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'

/**
 * Integration tests use the real programs. They are skipped only when
 * LBAAS_SKIP_INTEGRATION=1; otherwise a missing prerequisite fails the run with what to install.
 */
/** Namespaces and links of the names tests and the CLI make (lbt*, lab-*, lbaas-*, lbbr-*, lbv*, lbl*). */
function testMadeNames(): Set<string> {
  const list = (args: string[]) => {
    try {
      return execFileSync('ip', args, {encoding: 'utf8'})
    } catch {
      return ''
    }
  }
  const namespaces = list(['netns', 'list']).split('\n').map((line) => line.split(' ')[0])
  const links = [...list(['-o', 'link', 'show']).matchAll(/^\d+: ([^:@\s]+)/gm)].map((match) => match[1])
  return new Set([...namespaces.map((name) => `netns ${name}`), ...links.map((name) => `link ${name}`)].filter((name) => /^(netns|link) (lbt|lab-|lbaas-|lbbr-|lbv|lbl)/.test(name)))
}

export default function setup(): () => void {
  const before = testMadeNames()
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
  // A leak is reported, not failed on: the run's own verdict stays about behaviour, and
  // the names tell which file forgot to clean up.
  return () => {
    const leaked = [...testMadeNames()].filter((name) => !before.has(name))
    if (leaked.length > 0) console.warn(`integration tests left these behind:\n  ${leaked.join('\n  ')}`)
  }
}
