/**
 * The fast path of bin/run.js: the plain listings (`lbaas pool list -f value -c id` in a
 * script loop) answered without loading oclif, which is most of a command's start-up
 * (BENCHMARKS.md). It takes only argv it fully understands: the listing commands with the
 * global flags. Anything else (help, other commands, an unknown or malformed flag) returns
 * undefined and oclif runs the command as usual, so usage errors stay oclif's. The output
 * and the errors come from the same code the commands use.
 */
import {colorEnabled, reportFailure} from './failure.js'
import {FORMATS, type Format} from './format.js'

const TOPICS = new Set(['subnet', 'pool', 'monitor', 'vip'])

interface GlobalFlags {
  state?: string
  runDir?: string
  format: Format
  columns: string[]
}

/** The flag a spelling stands for: oclif refuses a non-multiple flag given twice (exit 2). */
const FLAG_OF: Record<string, string> = {'--state': 'state', '--run-dir': 'run-dir', '--format': 'format', '-f': 'format', '--column': 'column', '-c': 'column'}

/**
 * The global flags of LbaasCommand, in oclif's spellings; undefined for anything else,
 * including a non-multiple flag given twice (oclif's usage error, not ours to imitate).
 */
export function parseGlobalFlags(argv: readonly string[]): GlobalFlags | undefined {
  const flags: GlobalFlags = {format: 'table', columns: []}
  const seen = new Set<string>()
  const once = (name: string) => (seen.has(name) ? false : (seen.add(name), true))
  let json = false
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]
    if (arg === '--json') {
      if (!once('json')) return undefined
      json = true
    } else if (arg === '--no-input') {
      if (!once('no-input')) return undefined
    } else {
      const match = /^(--state|--run-dir|--format|--column|-f|-c)(?:=(.*))?$/.exec(arg) ?? /^(-f|-c)(.+)$/.exec(arg)
      if (!match) return undefined
      const value = match[2] ?? argv[++index]
      if (value === undefined || (match[2] === undefined && value.startsWith('-'))) return undefined
      const flag = FLAG_OF[match[1]]!
      if (flag !== 'column' && !once(flag)) return undefined
      switch (match[1]) {
        case '--state':
          flags.state = value
          break
        case '--run-dir':
          flags.runDir = value
          break
        case '--format':
        case '-f':
          if (!(FORMATS as readonly string[]).includes(value)) return undefined
          flags.format = value as Format
          break
        default:
          flags.columns.push(value)
      }
    }
  }
  if (json) flags.format = 'json'
  return flags
}

/**
 * The listing the fast path answers for this argv and environment, or undefined: oclif's.
 * Debug output (LBAAS_DEBUG's stack traces, DEBUG's oclif tracing) names the code path,
 * so with either set oclif answers.
 */
export function fastPathListing(argv: readonly string[], env: NodeJS.ProcessEnv): {topic: string; flags: GlobalFlags} | undefined {
  const [topic, verb, ...rest] = argv
  if (verb !== 'list' || !TOPICS.has(topic) || env.LBAAS_DEBUG || env.DEBUG) return undefined
  const flags = parseGlobalFlags(rest)
  return flags && {topic, flags}
}

/** Runs `<topic> list` when argv is one the fast path takes; returns the exit code, or undefined. */
export async function runFastPath(argv: readonly string[]): Promise<number | undefined> {
  const taken = fastPathListing(argv, process.env)
  if (!taken) return undefined
  const {topic, flags} = taken
  const json = flags.format === 'json' || flags.format === 'yaml'
  const [{LISTINGS}, {formatList}, {openAppContext}, {stderrNotifier}] = await Promise.all([
    import('./listings.js'),
    import('./format.js'),
    import('../service/wiring.js'),
    import('./notify.js'),
  ])
  let ctx
  try {
    ctx = openAppContext({
      // oclif reads a flag's environment variable only when it is non-empty.
      state: flags.state ?? (process.env.LBAAS_STATE || undefined),
      runDir: flags.runDir ?? (process.env.LBAAS_RUN_DIR || undefined),
      notify: stderrNotifier({progress: false, color: false}),
    })
    const listing = LISTINGS[topic as keyof typeof LISTINGS]
    const output = {format: flags.format, columns: flags.columns, color: colorEnabled()}
    process.stdout.write(await formatList(listing.rows(ctx), listing.columns, output, listing.fields))
    return 0
  } catch (error) {
    return reportFailure(error, {json})
  } finally {
    ctx?.store.close()
  }
}
