/**
 * The built CLI's oclif manifest, and a checker for `lbaas …` command lines (help examples,
 * commands the demo prints): the command exists, every flag exists, option values are
 * allowed, and there are no more positional arguments than the command takes.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

interface ManifestFlag {
  type: 'option' | 'boolean'
  char?: string
  options?: string[]
  allowNo?: boolean
}

export interface ManifestCommand {
  id: string
  summary?: string
  description?: string
  examples?: string[]
  args: Record<string, {required?: boolean}>
  flags: Record<string, ManifestFlag>
}

export function loadManifest(): Record<string, ManifestCommand> {
  const path = fileURLToPath(new URL('../../oclif.manifest.json', import.meta.url))
  return (JSON.parse(readFileSync(path, 'utf8')) as {commands: Record<string, ManifestCommand>}).commands
}

/** Splits a shell line into words: single and double quotes, no expansion. */
export function shellWords(line: string): string[] {
  const words: string[] = []
  let current: string | undefined
  let quote: '"' | "'" | undefined
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = undefined
      else current = (current ?? '') + char
    } else if (char === '"' || char === "'") {
      quote = char
      current ??= ''
    } else if (/\s/.test(char)) {
      if (current !== undefined) words.push(current)
      current = undefined
    } else current = (current ?? '') + char
  }
  if (quote) throw new Error(`unbalanced ${quote} in: ${line}`)
  if (current !== undefined) words.push(current)
  return words
}

/** Problems with `argv` (after `lbaas`), or [] when the manifest accepts it. */
export function checkCommandLine(manifest: Record<string, ManifestCommand>, argv: readonly string[]): string[] {
  let id = ''
  let rest: string[] = []
  for (let length = argv.length; length > 0; length--) {
    const candidate = argv.slice(0, length).join(':')
    if (manifest[candidate]) {
      id = candidate
      rest = argv.slice(length)
      break
    }
  }
  if (!id) return [`no command for: ${argv.join(' ')}`]
  const command = manifest[id]
  const problems: string[] = []
  let positionals = 0
  for (let index = 0; index < rest.length; index++) {
    const word = rest[index]
    let flag: ManifestFlag | undefined
    let inlineValue: string | undefined
    let name = word
    if (word.startsWith('--')) {
      ;[name, inlineValue] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
      flag = command.flags[name]
      if (!flag && name.startsWith('no-') && command.flags[name.slice(3)]?.allowNo) flag = command.flags[name.slice(3)]
    } else if (/^-[A-Za-z]/.test(word)) {
      name = word.slice(1, 2)
      flag = Object.values(command.flags).find((candidate) => candidate.char === name)
      if (word.length > 2) inlineValue = word.slice(2)
    } else {
      positionals++
      continue
    }
    if (!flag) {
      problems.push(`${id}: unknown flag ${word}`)
      continue
    }
    if (flag.type === 'option') {
      const value = inlineValue ?? rest[++index]
      if (value === undefined) problems.push(`${id}: ${word} needs a value`)
      else if (flag.options && !flag.options.includes(value)) problems.push(`${id}: ${word} ${value} is not one of ${flag.options.join(', ')}`)
    }
  }
  const args = Object.values(command.args)
  if (positionals > args.length) problems.push(`${id}: ${positionals} arguments, takes ${args.length}`)
  const required = args.filter((arg) => arg.required).length
  if (positionals < required) problems.push(`${id}: ${positionals} arguments, needs ${required}`)
  return problems
}

/** The `lbaas …` commands inside a shell line (also inside `$(…)`), as argv without `lbaas`. */
export function lbaasInvocations(line: string, bin = 'lbaas'): string[][] {
  const segments = [...line.matchAll(/\$\(([^()]*)\)/g)].map((match) => match[1])
  segments.push(line.replace(/\$\(([^()]*)\)/g, 'X'))
  return segments
    .flatMap((segment) => segment.split(/&&|\|\||;|\|/))
    .map((part) => shellWords(part.trim()))
    .filter((words) => words[0] === bin || (words[0]?.includes('=') && words[1] === bin))
    .map((words) => words.slice(words.indexOf(bin) + 1))
}
