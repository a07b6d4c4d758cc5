/**
 * Reading back what lbaas ran from its `LBAAS_DEBUG=1` trace (run.ts `emit`): one line per
 * program, `lbaas: <ms> ms  <status> <argv as a shell line>`, followed by `    < ` lines
 * for the stdin of `ip -batch -`. Parsing the shell quoting of `formatArgv` back gives the
 * exact argv. `auditArgv` lists every argv that starts (directly or after `ip netns exec
 * NS`) with a program lbaas is not meant to run, or names a path outside the allowed roots.
 */
import {realpathSync} from 'node:fs'

export interface TracedCommand {
  argv: string[]
  /** The stdin given to it (ip -batch scripts), or ''. */
  input: string
}

const TRACE = /^lbaas:\s+[\d.]+ ms\s+(?:exit -?\d+|[a-z-]+)\s+(.+)$/

/** Inverse of run.ts `formatArgv`: words separated by one space, `'…'` quoting with `'\''` for a quote. */
export function parseShellLine(line: string): string[] {
  const words: string[] = []
  let word = ''
  let started = false
  for (let index = 0; index < line.length; index++) {
    const char = line[index]
    if (char === ' ') {
      if (started) words.push(word)
      word = ''
      started = false
    } else if (char === "'") {
      const end = line.indexOf("'", index + 1)
      if (end < 0) throw new Error(`unterminated quote in ${JSON.stringify(line)}`)
      word += line.slice(index + 1, end)
      index = end
      started = true
    } else if (char === '\\') {
      word += line[index + 1] ?? ''
      index++
      started = true
    } else {
      word += char
      started = true
    }
  }
  if (started) words.push(word)
  return words
}

export function tracedCommands(stderr: string): TracedCommand[] {
  const commands: TracedCommand[] = []
  for (const line of stderr.split('\n')) {
    const match = TRACE.exec(line)
    if (match) commands.push({argv: parseShellLine(match[1]), input: ''})
    else if (line.startsWith('    < ') && commands.length > 0) commands.at(-1)!.input += `${line.slice(6)}\n`
  }
  return commands
}

/** The program an argv runs, looking through `ip netns exec NS`. */
export function programOf(argv: readonly string[]): {program: string; args: readonly string[]} {
  if (argv[0] === 'ip' && argv[1] === 'netns' && argv[2] === 'exec') return {program: argv[4], args: argv.slice(5)}
  return {program: argv[0], args: argv.slice(1)}
}

export interface AuditRules {
  programs: readonly string[]
  /** Absolute paths an argument may name: these directories and files (and what is below them). */
  pathRoots: readonly string[]
}

export function auditArgv(commands: readonly TracedCommand[], rules: AuditRules): string[] {
  const roots = rules.pathRoots.map((root) => {
    try {
      return realpathSync(root)
    } catch {
      return root
    }
  })
  const within = (path: string) => [...rules.pathRoots, ...roots].some((root) => path === root || path.startsWith(`${root}/`))
  const problems: string[] = []
  for (const {argv} of commands) {
    const {program} = programOf(argv)
    if (!rules.programs.includes(program)) problems.push(`unexpected program ${JSON.stringify(program)} in ${JSON.stringify(argv)}`)
    for (const arg of argv) {
      // `-S <socket>,mode,600` and `ip … /24`-style words are not paths; only arguments that start with `/` are.
      const path = arg.split(',')[0]
      if (path.startsWith('/') && !/^\/\d+$/.test(path) && !within(path)) problems.push(`argument ${JSON.stringify(arg)} is outside the allowed paths in ${JSON.stringify(argv)}`)
    }
  }
  return problems
}
