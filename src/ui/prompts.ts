/**
 * Prompts for missing required values (SPEC §2 "Interactive"): only on a TTY; every
 * prompt has a flag, and off a TTY a missing value is an error naming the flag.
 * @inquirer/prompts is imported lazily: it costs ~50 ms at start-up.
 */
import {MissingValueError} from '../domain/errors.js'

export type Question =
  | {kind: 'input'; message: string; validate?: (value: unknown) => unknown; default?: string}
  | {kind: 'select'; message: string; choices: readonly string[]; default?: string}

/** Turns a domain validator (throws on bad input) into inquirer's inline validation. */
function inlineValidation(validate?: (value: unknown) => unknown) {
  return (text: string): true | string => {
    if (!validate) return text.length > 0 || 'a value is required'
    try {
      validate(text)
      return true
    } catch (error) {
      return (error as Error).message
    }
  }
}

export async function askOne(question: Question): Promise<string> {
  const prompts = await import('@inquirer/prompts')
  if (question.kind === 'select') {
    return prompts.select({
      message: question.message,
      choices: question.choices.map((choice) => ({name: choice, value: choice})),
      default: question.default,
    })
  }
  return prompts.input({message: question.message, default: question.default, validate: inlineValidation(question.validate)})
}

/**
 * Fills every key of `questions` that is missing from `values`: asks on a TTY, otherwise
 * throws MissingValueError naming the flag. Returns the values with the answers merged.
 */
export async function askMissing<T extends Record<string, unknown>, K extends keyof T & string>(
  values: T,
  questions: Record<K, Question>,
  interactive: boolean,
): Promise<Omit<T, K> & Record<K, string>> {
  const answers: Record<string, unknown> = {...values}
  for (const [flag, question] of Object.entries(questions) as [string, Question][]) {
    if (answers[flag] !== undefined) continue
    if (!interactive) throw new MissingValueError(flag.replaceAll('-', '_'), `--${flag}`)
    answers[flag] = await askOne(question)
  }
  return answers as Omit<T, K> & Record<K, string>
}

export async function confirm(message: string): Promise<boolean> {
  const prompts = await import('@inquirer/prompts')
  return prompts.confirm({message, default: false})
}
