/**
 * Guided creation: a create command run with no flags on a terminal walks the operator
 * through every field (required ones always, optional ones too when nothing was given),
 * validating each answer with the flag's own rule. Afterwards it can print the one-line
 * command that does the same without prompts. Off a terminal nothing is asked: a missing
 * required value is a MissingValueError naming the flag.
 */
import {MissingValueError} from '../domain/errors.js'
import {askOne, type Question} from './prompts.js'
import {formatArgv} from '../util/argv.js'

export type FlagValue = string | boolean | readonly string[] | undefined

export class Guide {
  private answered = false

  /**
   * @param interactive prompting is possible (TTY, no --no-input/--json/CI)
   * @param guided nothing was given on the command line: optional fields are offered too
   */
  constructor(
    readonly interactive: boolean,
    readonly guided: boolean,
  ) {}

  /** Whether any value came from a prompt (then the equivalent command is worth printing). */
  get askedAnything(): boolean {
    return this.answered
  }

  /** The given value, else the answer on a terminal, else MissingValueError. */
  async required(name: string, given: string | undefined, question: Question | (() => Question), options: {positional?: boolean} = {}): Promise<string> {
    if (given !== undefined) return given
    if (!this.interactive) {
      const field = name.replaceAll('-', '_')
      throw new MissingValueError(field, options.positional ? `argument ${name.toUpperCase()}` : `--${name}`)
    }
    this.answered = true
    return askOne(typeof question === 'function' ? question() : question)
  }

  /**
   * The given value; in guided mode the answer. An empty answer, or the question's default,
   * comes back as undefined: the service applies its default and the command line stays short.
   */
  async optional(given: string | undefined, question: Question | (() => Question)): Promise<string | undefined> {
    if (given !== undefined || !this.guided) return given
    this.answered = true
    const asked = typeof question === 'function' ? question() : question
    const answer = await askOne(asked)
    return answer === '' || answer === asked.default ? undefined : answer
  }
}

/** True when none of the command's own arguments or flags were given. */
export function nothingGiven(values: Record<string, unknown>): boolean {
  return Object.values(values).every((value) => value === undefined || value === false || (Array.isArray(value) && value.length === 0))
}

/**
 * `lbaas pool create --name web …`: positionals first, then each flag with a value (booleans
 * only when true), shell-quoted so it can be pasted.
 */
export async function equivalentCommand(
  bin: string,
  command: readonly string[],
  positionals: readonly (string | undefined)[],
  flags: Record<string, FlagValue>,
): Promise<string> {
  const argv = [...command, ...positionals.filter((value): value is string => value !== undefined)]
  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined || value === false) continue
    if (value === true) argv.push(`--${flag}`)
    else if (Array.isArray(value)) for (const item of value) argv.push(`--${flag}`, item)
    // `--connection-limit=-1`: a value starting with a dash must not look like a flag.
    else if ((value as string).startsWith('-')) argv.push(`--${flag}=${value as string}`)
    else argv.push(`--${flag}`, value as string)
  }
  return `${bin} ${formatArgv(argv)}`
}
