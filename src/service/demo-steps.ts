/**
 * The demo's steps as a table (issue 11): each `lbaas` command line is written once, as
 * argv; the step runs from the values it reads out of that argv, and the script the demo
 * prints is made from the same argv. A step that leaves a word of its argv unread fails
 * (an internal error), so the printed line cannot say more than what ran, and a value
 * cannot reach the service by another way than the argv.
 */
import {InternalError} from '../domain/errors.js'
import {formatArgv} from '../util/argv.js'

/** A word the script shows as a shell variable (`"$MONITOR"`) and the step runs with its value. */
export interface ShellRef {
  value: string
  variable: string
}

export type Word = string | ShellRef

export const shellRef = (variable: string, value: string): ShellRef => ({variable, value})

export interface DemoStep<T> {
  /** Printed before the step runs (by the reporter: `ui/demo-view.ts`). */
  heading?: string
  /** The program, when not `lbaas` (e.g. `gearmand`, `kill`). */
  program?: string
  /** The command, e.g. `['pool', 'create']` (empty for other programs). */
  command: readonly string[]
  /** Its arguments and flags, written once. */
  argv: readonly Word[]
  /** The script keeps the step's output in a variable: `NAME=$(lbaas … -f value -c COLUMN)`. */
  capture?: {variable: string; column: string}
  /** Environment the script sets for this command alone, e.g. `LBAAS_STATE=…` of an agent. */
  env?: Readonly<Record<string, string>>
  /** The script starts it in the background (`… &`): a daemon the demo stops again. */
  background?: boolean
  /** Does the step's work, reading every value from `args`. */
  run(args: StepArgs): Promise<T>
}

/** One step's argv as the step reads it: positionals first, then `--flag value` or `--flag`. */
export class StepArgs {
  private readonly read = new Set<number>()
  private nextPositional = 0

  constructor(readonly words: readonly string[]) {}

  /** The next positional argument. */
  positional(): string {
    const index = this.nextPositional++
    const word = this.words[index]
    if (word === undefined || word.startsWith('--')) throw new InternalError(`demo step: no positional argument ${index + 1} in ${formatArgv(this.words)}`)
    this.read.add(index)
    return word
  }

  /** The value after `--name`. */
  flag(name: string): string {
    const value = this.optional(name)
    if (value === undefined) throw new InternalError(`demo step: no ${name} in ${formatArgv(this.words)}`)
    return value
  }

  /** The value after `--name`, or undefined when the argv has no such flag. */
  optional(name: string): string | undefined {
    const index = this.words.indexOf(name)
    if (index < 0) return undefined
    const value = this.words[index + 1]
    if (value === undefined || value.startsWith('--')) throw new InternalError(`demo step: ${name} has no value in ${formatArgv(this.words)}`)
    this.read.add(index).add(index + 1)
    return value
  }

  /** Whether the boolean `--name` is given. */
  bool(name: string): boolean {
    const index = this.words.indexOf(name)
    if (index >= 0) this.read.add(index)
    return index >= 0
  }

  /** Every word, in order: the step hands its whole argv to a program it starts. */
  all(): string[] {
    this.words.forEach((_, index) => this.read.add(index))
    return [...this.words]
  }

  number(name: string): number {
    return Number(this.flag(name))
  }

  /** Words the step did not read: the printed line would say something that did not run. */
  unread(): string[] {
    return this.words.filter((_, index) => !this.read.has(index))
  }
}

const wordValue = (word: Word) => (typeof word === 'string' ? word : word.value)

/** How the script shows one step: `[ENV=… ]lbaas COMMAND ARGV`, wrapped in `NAME=$(…)` when it captures. */
export function scriptLine(step: Pick<DemoStep<unknown>, 'program' | 'command' | 'argv' | 'capture' | 'env' | 'background'>): string {
  const words = [...step.command, ...step.argv, ...(step.capture ? ['-f', 'value', '-c', step.capture.column] : [])]
  const shown = words.map((word) => (typeof word === 'string' ? formatArgv([word]) : `"$${word.variable}"`)).join(' ')
  const env = Object.entries(step.env ?? {}).map(([name, value]) => `${name}=${formatArgv([value])} `).join('')
  const line = `${env}${step.program ?? 'lbaas'} ${shown}`
  if (step.capture) return `${step.capture.variable}=$(${line})`
  return step.background ? `${line} &` : line
}

/** What a step runs (after `lbaas`, or after its program): the argv with every variable replaced by its value. */
export function stepArgv(step: Pick<DemoStep<unknown>, 'command' | 'argv'>): string[] {
  return [...step.command, ...step.argv.map(wordValue)]
}

export interface StepReporter {
  heading(text: string): Promise<void>
  ran?(argv: readonly string[], line: string): void
}

/**
 * Runs a demo's steps in order and keeps its script: the lbaas lines (from each step's
 * argv) and the shell lines between them (waits, curl loops, comments). `ran` holds the
 * argv each step ran with, for the test that proves the two agree.
 */
export class DemoScript {
  readonly lines: string[] = []
  readonly ran: string[][] = []

  constructor(private readonly report: StepReporter) {}

  async run<T>(step: DemoStep<T>): Promise<T> {
    if (step.heading) await this.report.heading(step.heading)
    const args = new StepArgs(step.argv.map(wordValue))
    const result = await step.run(args)
    const unread = args.unread()
    if (unread.length > 0) throw new InternalError(`demo step \`${scriptLine(step)}\` did not use ${formatArgv(unread)}`)
    const argv = stepArgv(step)
    const line = scriptLine(step)
    this.ran.push(argv)
    this.lines.push(line)
    this.report.ran?.(argv, line)
    return result
  }

  /** A line of the script that is not an lbaas command (a wait, a curl loop, a comment). */
  shell(line: string): void {
    this.lines.push(line)
  }
}
