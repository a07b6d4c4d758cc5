/**
 * Questions for missing values (SPEC §2 "Interactive"), asked only on a TTY (guide.ts decides
 * when); every question has a flag. Prompts draw on stderr, like all progress, so stdout
 * carries only data. @inquirer/prompts is imported lazily: it costs ~50 ms at start-up.
 */
export interface Choice {
  name: string
  value: string
  description?: string
  /** Shown once chosen (default: the name). */
  short?: string
}

export type Question =
  | {
      kind: 'input'
      message: string
      /** A domain rule (throws on bad input): the same check as the flag's, run as the value is entered. */
      validate?: (value: string) => unknown
      default?: string
      /** An empty answer is allowed and means "the default". */
      optional?: boolean
    }
  | {kind: 'select'; message: string; choices: readonly (string | Choice)[]; default?: string}
  /** Existing objects to pick from, with "another…" leading to free input (a name or id). */
  | {kind: 'pick'; message: string; choices: readonly Choice[]; default?: string; other: string}

const OTHER = '\u0000other'
const promptContext = () => ({output: process.stderr})

/** Turns a domain validator (throws on bad input) into inquirer's inline validation. */
export function inlineValidation(validate?: (value: string) => unknown, optional = false) {
  return (text: string): true | string => {
    if (text === '') return optional || 'a value is required'
    if (!validate) return true
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
  if (question.kind === 'select' || question.kind === 'pick') {
    const choices = question.choices.map((choice) => (typeof choice === 'string' ? {name: choice, value: choice} : choice))
    if (question.kind === 'pick') {
      if (choices.length === 0) return prompts.input({message: question.message, validate: inlineValidation()}, promptContext())
      choices.push({name: question.other, value: OTHER})
    }
    const picked = await prompts.select({message: question.message, choices, default: question.default, pageSize: 12}, promptContext())
    if (picked !== OTHER) return picked
    return prompts.input({message: `${question.message} (name or id)`, validate: inlineValidation()}, promptContext())
  }
  return prompts.input(
    {message: question.message, default: question.default, validate: inlineValidation(question.validate, question.optional)},
    promptContext(),
  )
}

export async function confirm(message: string): Promise<boolean> {
  const prompts = await import('@inquirer/prompts')
  return prompts.confirm({message, default: false}, promptContext())
}
