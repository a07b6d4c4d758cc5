/**
 * Writing values into an HAProxy configuration so that HAProxy reads back exactly the
 * value, as one word, and nothing else (configuration.txt §2.2).
 *
 * Contract:
 * - `quoteWord` escapes a value for the top-level tokenizer; it throws
 *   RuntimeFailure(`haproxy_render_unsafe`) for what cannot be represented safely
 *   (empty values, control characters such as newline, CR, tab or NUL).
 * - `sampleFetchArgument` prepares an argument of a sample fetch such as
 *   `req.cook(<name>)`, which HAProxy parses twice (top level, then the argument
 *   parser); it accepts only HTTP token characters.
 * - `directive` (a template tag) builds one configuration line from trusted keyword text
 *   and variable values, quotes every value, and then re-tokenizes the line the way
 *   HAProxy does: if the line does not split into exactly the intended words, it throws.
 */
import {RuntimeFailure} from '../domain/errors.js'

const UNSAFE_CODE = 'haproxy_render_unsafe'

function unsafe(message: string): RuntimeFailure {
  return new RuntimeFailure(UNSAFE_CODE, `internal error while rendering the HAProxy configuration: ${message}`)
}

function describe(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
}

// C0 controls and DEL: HAProxy would end the line at LF, and the others have no place in
// names, paths or URIs we write.
const CONTROL = /[\x00-\x1f\x7f]/

// Characters the top-level tokenizer treats specially outside quotes. `$` is literal
// there (environment variables are only expanded inside double quotes).
const TOP_LEVEL_SPECIAL = /[\\"'# ]/g

/** Escapes `value` so that HAProxy's configuration tokenizer reads it as exactly one word. */
export function quoteWord(value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw unsafe('an empty value cannot be written as a word')
  if (CONTROL.test(value)) throw unsafe(`value ${describe(value)} contains a control character (newline, CR, tab, NUL, ...)`)
  return value.replace(TOP_LEVEL_SPECIAL, (character) => `\\${character}`)
}

/** RFC 7230 token characters: what cookie names may hold (see domain/validation.ts). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * The text to place between the parentheses of a sample fetch (before top-level quoting).
 * The argument parser splits on `,` and `)` and honours quotes and backslashes, so only
 * token characters are accepted, and a single quote is escaped for that second level.
 */
export function sampleFetchArgument(value: string): string {
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw unsafe(`sample-fetch argument ${describe(String(value))} must be 1 or more HTTP token characters`)
  }
  return value.replaceAll("'", "\\'")
}

/**
 * Splits one configuration line into words the way HAProxy 2.6's parser does (quotes,
 * backslash escapes, `#` comments). Used to prove that a rendered line holds exactly the
 * intended words. Environment variables are not expanded.
 */
export function splitHaproxyWords(line: string): string[] {
  const words: string[] = []
  let current: string | undefined
  let index = 0
  const append = (text: string): void => {
    current = (current ?? '') + text
  }
  const endWord = (): void => {
    if (current !== undefined) words.push(current)
    current = undefined
  }
  while (index < line.length) {
    const character = line[index]
    if (character === ' ' || character === '\t') {
      endWord()
      index++
    } else if (character === '#') {
      break
    } else if (character === '\\') {
      const [text, length] = readEscape(line, index)
      append(text)
      index += length
    } else if (character === "'") {
      const end = line.indexOf("'", index + 1)
      if (end === -1) throw unsafe(`unterminated single quote in ${describe(line)}`)
      append(line.slice(index + 1, end))
      index = end + 1
    } else if (character === '"') {
      index++
      let closed = false
      while (index < line.length) {
        if (line[index] === '"') {
          closed = true
          index++
          break
        }
        if (line[index] === '\\') {
          const [text, length] = readEscape(line, index)
          append(text)
          index += length
        } else {
          append(line[index])
          index++
        }
      }
      if (!closed) throw unsafe(`unterminated double quote in ${describe(line)}`)
      append('')
    } else {
      append(character)
      index++
    }
  }
  endWord()
  return words
}

const SIMPLE_ESCAPES: Record<string, string> = {
  ' ': ' ',
  '\t': '\t',
  '#': '#',
  '\\': '\\',
  "'": "'",
  '"': '"',
  $: '$',
  n: '\n',
  r: '\r',
  t: '\t',
}

function readEscape(line: string, index: number): [string, number] {
  const next = line[index + 1]
  if (next === undefined) throw unsafe(`a line ends with a backslash: ${describe(line)}`)
  if (next === 'x') {
    const hex = line.slice(index + 2, index + 4)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw unsafe(`bad \\x escape in ${describe(line)}`)
    return [String.fromCharCode(Number.parseInt(hex, 16)), 4]
  }
  const text = SIMPLE_ESCAPES[next]
  if (text === undefined) throw unsafe(`unsupported escape \\${next} in ${describe(line)}`)
  return [text, 2]
}

/** A value that may appear in a directive: text (quoted as needed) or an integer. */
export type DirectiveValue = string | number

/**
 * Template tag for one configuration line: the template text is trusted keyword text, every
 * interpolated value is quoted with `quoteWord` (a value glued to template text, like
 * `${address}:${port}`, stays part of that word). Throws if the result would not be read
 * back by HAProxy as exactly the intended words.
 */
export function directive(template: TemplateStringsArray, ...values: DirectiveValue[]): string {
  let rendered = ''
  const intended: string[] = []
  let word: string | undefined
  const addRaw = (text: string): void => {
    word = (word ?? '') + text
  }
  template.forEach((literal, position) => {
    if (/[\\"'#\t\n\r]/.test(literal)) throw unsafe(`keyword text ${describe(literal)} must be plain`)
    rendered += literal
    const pieces = literal.split(' ')
    pieces.forEach((piece, pieceIndex) => {
      if (pieceIndex > 0 && word !== undefined) {
        intended.push(word)
        word = undefined
      }
      if (piece.length > 0) addRaw(piece)
    })
    if (position < values.length) {
      const text = valueText(values[position])
      rendered += quoteWord(text)
      addRaw(text)
    }
  })
  if (word !== undefined) intended.push(word)
  const parsed = splitHaproxyWords(rendered)
  if (parsed.length !== intended.length || parsed.some((parsedWord, index) => parsedWord !== intended[index])) {
    throw unsafe(`line ${describe(rendered)} would not be read as the words ${JSON.stringify(intended)}`)
  }
  return rendered
}

function valueText(value: DirectiveValue): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw unsafe(`number ${value} is not an integer`)
    return String(value)
  }
  if (typeof value !== 'string') throw unsafe(`value ${describe(String(value))} is neither text nor a number`)
  return value
}

/** Proxy and server names: HAProxy accepts letters, digits, `-`, `_`, `.` and `:` only. */
export function assertHaproxyName(name: string, what: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) {
    throw unsafe(`${what} name ${describe(String(name))} must be 1–128 of A-Z a-z 0-9 _ . : -`)
  }
  return name
}
