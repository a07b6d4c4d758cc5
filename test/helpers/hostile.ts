/**
 * Hostile input for the fuzz tests (issue 6.3): fast-check arbitraries that mix valid values
 * with hostile ones (line breaks, NUL, `#`, quotes, backslashes, `$(…)`, `;`, bidi and
 * zero-width characters, emoji, very long text, id- and number-shaped text, huge integers,
 * floats, negative zero, JSON values of the wrong kind), and the checks that a rendered
 * HAProxy configuration holds accepted values only as whole words where they belong.
 *
 * Reproduce a failure with LBAAS_FUZZ_SEED=<seed> (fast-check prints the seed and the
 * path of a failing run); LBAAS_FUZZ_SCALE multiplies every run count (default 1).
 */

import fc from 'fast-check'
import {stateContent} from './state-content.js'

import type {Monitor, PoolGraph, Vip} from '../../src/domain/types.js'
import {renderConfig} from '../../src/haproxy/render.js'
import {buildPoolView, type RenderOptions} from '../../src/haproxy/view.js'
import {splitHaproxyWords} from '../../src/haproxy/words.js'

// ---- run control ---------------------------------------------------------------------

const SCALE = Number(process.env.LBAAS_FUZZ_SCALE ?? 1)
const SEED = process.env.LBAAS_FUZZ_SEED === undefined ? undefined : Number(process.env.LBAAS_FUZZ_SEED)

/** Options for fc.assert: `runs` generated cases (times LBAAS_FUZZ_SCALE), the seed from LBAAS_FUZZ_SEED. */
export function fuzzOptions(runs: number): {numRuns: number; seed?: number; endOnFailure: boolean} {
  return {numRuns: Math.max(1, Math.round(runs * SCALE)), ...(SEED === undefined ? {} : {seed: SEED}), endOnFailure: true}
}

/** Counts generated cases per file, so each file can say how many it ran. */
export class CaseCounter {
  count = 0
  readonly started = performance.now()
  /** Counts one case; returns the count so far. */
  tick(): number {
    return ++this.count
  }
  summary(what: string): string {
    return `${what}: ${this.count} generated cases in ${((performance.now() - this.started) / 1_000).toFixed(1)} s`
  }
}

// ---- hostile values ------------------------------------------------------------------

const UUID_SHAPED = '00000000-0000-4000-8000-000000000000'

/** Text an attacker, a typo or a broken script would send. */
export const HOSTILE_STRINGS: readonly string[] = [
  '', ' ', '   ', '\t', '\n', '\r', '\r\n', '\0', '\x7f', '\x1b[31mred', '\v', '\f',
  '#', '# comment', 'a b', 'a\tb', '"', "'", '\\', '\\n', '\\x0a', '"quoted"', "'single'",
  '$', '${HOME}', '"$HOME"', '$(reboot)', '`id`', ';', '; rm -rf /', '&&', '|', '>', '<', '*', '?', '%s%n', '%00',
  '\u202e', 'abc\u202edef', '\u200b', 'a\u200bb', '\u2028', '\u2029', '\ufeff', '😀', '👩‍💻', 'é', 'ﬀ', 'İ', '\u0301', '\ud800', '\udfff',
  'x'.repeat(255), 'x'.repeat(256), 'é'.repeat(256), 'x'.repeat(5000),
  UUID_SHAPED, UUID_SHAPED.toUpperCase(), '6f1c2a9e-0000-4000-8000-00000000000',
  '1', '0', '-1', '-0', '+1', '01', '007', '1e3', '1E3', '0x10', '0o7', '0b1', '1.5', '1.0', '1,5', ' 1', '1 ', '1\n', '١', 'NaN', 'Infinity', '-Infinity',
  '9007199254740993', '99999999999999999999', '65536', '65535', '256', '257', '86401', '-2',
  'true', 'false', 'TRUE', 'True', 'yes', 'no', 'on', 'off', 'null', 'None', 'undefined', '[]', '{}', '{"a":1}',
  '/x\n    server evil 192.0.2.66:80', '/ok # server evil', '/a b', '/"', "/'", '/\\', '/$(id)', '/é', '/\u202e', 'x/y', '//', '/',
  'GET\r\nHost: evil', 'GET ', 'get', 'G-ET', 'GETGETGETGETGETGE',
  'APP_COOKIE:a b', 'APP_COOKIE:a\nb', 'APP_COOKIE:', 'APP_COOKIE:a,b', 'APP_COOKIE:a)b', 'APP_COOKIE:a;b', 'APP_COOKIE:é', 'APP_COOKIE:x:y',
  'SOURCE_IP:x', 'HTTP_COOKIE:SID', 'none', 'NONE', 'app_cookie:SID',
  '198.18.0.11\n', ' 198.18.0.11', '198.18.0.011', '198.18.0.256', '198.18.0', '::ffff:198.18.0.11', 'fe80::1%eth0', '[::1]', '198.18.0.0/24',
  'localhost', 'evil.example', '0.0.0.0', '255.255.255.255', '::', '::1',
  '200-199', '99', '600', '200,', ',200', '200;201', '200 201', '2xx', '200-',
  // Flag-shaped text names no real file: were it ever read as a flag, nothing on the host is touched.
  '--help', '-f', '--json', '--state=/proc/lbaas-fuzz/state.db', '--run-dir=/proc/lbaas-fuzz', '../../lbaas-fuzz/passwd', 'lbbr-evil', 'lbv0', 'eth0', 'lo',
  'ROUND_ROBIN\n', 'round_robin', 'HTTP ', 'HTTPS\0', 'GALERA', 'UDP',
]

const HOSTILE_NUMBERS: readonly number[] = [
  0, -0, -1, 1, 0.5, 1.5, -1.5, 255, 256, 257, 65_535, 65_536, 86_400, 86_401, 9000, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e21, -1e21,
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, NaN, Infinity, -Infinity,
]

/** Hostile text: the list above, random unicode and binary-ish text, and pairs glued together. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  {weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS)},
  {weight: 2, arbitrary: fc.string({unit: 'grapheme', maxLength: 30})},
  {weight: 1, arbitrary: fc.string({unit: 'binary', maxLength: 30})},
  {weight: 1, arbitrary: fc.string({maxLength: 300})},
  {weight: 2, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom(...HOSTILE_STRINGS)).map(([a, b]) => a + b)},
)

/** Any JSON-ish value of the wrong kind, or hostile text. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {weight: 6, arbitrary: hostileString},
  {weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS)},
  {weight: 1, arbitrary: fc.integer()},
  {weight: 1, arbitrary: fc.double()},
  {weight: 1, arbitrary: fc.boolean()},
  {weight: 1, arbitrary: fc.constant(null)},
  {weight: 1, arbitrary: fc.array(fc.jsonValue({maxDepth: 1}), {maxLength: 3})},
  // Spread into a plain object: fast-check's dictionaries have no prototype, JSON's objects do.
  {weight: 1, arbitrary: fc.dictionary(fc.string({maxLength: 8}), fc.jsonValue({maxDepth: 1}), {maxKeys: 3}).map((record) => ({...record}))},
)

/** `String(value)`, also for objects without a prototype. */
function textOf(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'object') return JSON.stringify(value) ?? ''
  return String(value)
}

/**
 * A field's value: mostly valid, often hostile, sometimes a valid value with a hostile part
 * glued on (before or after). `text`: only strings (argv has nothing else).
 */
export function field(valid: fc.Arbitrary<unknown>, options: {text?: boolean} = {}): fc.Arbitrary<unknown> {
  const hostile = options.text ? hostileString : hostileValue
  return fc.oneof(
    {weight: 5, arbitrary: valid},
    {weight: 3, arbitrary: hostile},
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.constantFrom(...HOSTILE_STRINGS), fc.boolean())
        .map(([value, part, before]) => (before ? `${part}${textOf(value)}` : `${textOf(value)}${part}`)),
    },
  )
}

/** Characters and snippets that end a line, a word, a quote or a sample-fetch argument, or hide text. */
export const INJECTIONS: readonly string[] = [
  '\n', '\r', '\r\n', '\0', '\t', '\v', '\f', '\x7f', '\x1b', '\x85', ' ', '#', '"', "'", '\\', '$', '${X}', '$(id)', '`', ';', ',', ')', '(', '%',
  '\u202e', '\u200b', '\u2028', '\ufeff', '😀', 'é', '\ud800', '\n    server evil 192.0.2.66:80', ' # comment', '"\n"', "'\n'",
]

/**
 * A hostile replacement for a valid value: hostile on its own, or the valid value with a
 * hostile part inserted somewhere (before, inside or after): the near-valid values where a
 * validation rule or the renderer's quoting would slip.
 */
function spoiler(text: boolean): fc.Arbitrary<(valid: unknown) => unknown> {
  const part = fc.oneof({weight: 3, arbitrary: fc.constantFrom(...INJECTIONS)}, {weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS)})
  return fc.oneof(
    {weight: 2, arbitrary: (text ? hostileString : hostileValue).map((bad) => () => bad)},
    {
      weight: 4,
      arbitrary: fc.tuple(part, fc.nat()).map(([inserted, position]) => (valid: unknown) => {
        const original = textOf(valid)
        const at = position % (original.length + 1)
        return `${original.slice(0, at)}${inserted}${original.slice(at)}`
      }),
    },
  )
}

/** Mostly a valid value with a hostile part inserted somewhere, sometimes the valid value itself. */
export function nearValid(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const inserted = fc
    .tuple(valid, fc.constantFrom(...INJECTIONS), fc.nat())
    .map(([value, part, position]) => {
      const original = textOf(value)
      const at = position % (original.length + 1)
      return `${original.slice(0, at)}${part}${original.slice(at)}`
    })
  return fc.oneof({weight: 1, arbitrary: valid}, {weight: 3, arbitrary: inserted})
}

/**
 * An input record: every field valid (fields named in `optional` sometimes absent), then
 * (half the time, or as `clean` says) one, two or three of them spoiled with a hostile
 * value. Most inputs are therefore valid or one bad field away from it, which is where
 * validation gaps hide.
 */
export function input(
  model: Record<string, fc.Arbitrary<unknown>>,
  options: {optional?: readonly string[]; text?: boolean; clean?: number} = {},
): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(model)
  const valid = fc.record(
    Object.fromEntries(keys.map((key) => [key, options.optional?.includes(key) ? optional(model[key]) : model[key]])),
  ) as fc.Arbitrary<Record<string, unknown>>
  // `clean`: how much likelier an input is left valid than spoiled (nested inputs spoil too).
  const spoiled = fc.oneof(
    {weight: options.clean ?? 1, arbitrary: fc.constant<string[]>([])},
    {weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...keys), {minLength: 1, maxLength: Math.min(3, keys.length)})},
  )
  return fc
    .tuple(valid, spoiled, fc.array(spoiler(options.text ?? false), {minLength: 3, maxLength: 3}))
    .map(([values, spoiled, spoilers]) => {
      const result: Record<string, unknown> = {...values}
      spoiled.forEach((key, index) => (result[key] = spoilers[index](values[key])))
      return result
    })
}

/** Absent (undefined) one time in `freq`, else the field. */
export function optional(arbitrary: fc.Arbitrary<unknown>, freq = 3): fc.Arbitrary<unknown> {
  return fc.option(arbitrary, {nil: undefined, freq})
}

// ---- valid values (many of them hostile-looking but within the rules) ------------------

/** Names and descriptions: any text without control characters, quotes, `#`, bidi, emoji included. */
export const validName = fc
  .string({unit: 'grapheme', minLength: 1, maxLength: 40})
  .filter((text) => !/[\p{Cc}\p{Cs}]/u.test(text) && text.trim().length > 0)
  .map((text) => (/^[0-9a-f]{8}-/i.test(text) ? `n${text}` : text))
export const validDescription = fc.oneof(fc.constant(''), validName, fc.constantFrom('# not a comment', 'a "b" \'c\' \\d', '$(reboot)', '\u202eevil', 'x'.repeat(255)))
export const validBool = fc.constantFrom<unknown>(true, false, 'true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'TRUE', 'False')
export const validProtocol = fc.constantFrom('HTTP', 'HTTPS', 'TCP', 'http', 'Tcp')
export const validLbMethod = fc.constantFrom('ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP', 'round_robin')
export const validPort = fc.oneof(fc.integer({min: 1, max: 65_535}), fc.integer({min: 1, max: 65_535}).map(String))
export const validWeight = fc.oneof(fc.integer({min: 0, max: 256}), fc.integer({min: 0, max: 256}).map(String))
export const validMemberAddress = fc.oneof(
  fc.integer({min: 2, max: 254}).map((host) => `198.18.0.${host}`),
  fc.integer({min: 1, max: 0xffff}).map((host) => `2001:db8::${host.toString(16)}`),
  fc.constantFrom('2001:DB8:0:0:0:0:0:7', '198.19.0.1'),
)
export const validMonitorType = fc.constantFrom('PING', 'TCP', 'HTTP', 'HTTPS', 'http')
export const validDelay = fc.oneof(fc.integer({min: 5, max: 30}), fc.constantFrom(86_400, '5'))
/** At most 5: never above a validDelay. */
export const validTimeout = fc.oneof(fc.integer({min: 1, max: 5}), fc.constantFrom('1'))
export const validRetries = fc.oneof(fc.integer({min: 1, max: 10}), fc.constantFrom('3'))
export const validHttpMethod = fc.stringMatching(/^[A-Z]{1,16}$/)
/** Visible ASCII after `/`: `#`, quotes, backslashes and `$` are all valid here. */
export const validUrlPath = fc.oneof(
  fc.stringMatching(/^\/[\x21-\x7e]{0,60}$/),
  fc.constantFrom('/', '/healthz', '/a#b', '/"q"', "/'s'", '/\\x', '/${HOME}', '/$(id)', '/;x', '/%20', `/${'x'.repeat(254)}`),
)
const code = fc.integer({min: 100, max: 599})
export const validExpectedCodes = fc
  .array(
    fc.oneof(
      code.map(String),
      fc.tuple(code, code).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    ),
    {minLength: 1, maxLength: 4},
  )
  .chain((items) => fc.constantFrom(items.join(','), items.join(', ')))
/** RFC 7230 token characters: `#`, `'`, `$`, `|`, `` ` `` and friends are valid cookie names. */
export const validCookieName = fc.oneof(
  fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/),
  fc.constantFrom("a'b", '#', '$HOME', 'a|b', '`id`', "''", 'x'.repeat(255)),
)
export const validPersistence = fc.oneof(
  fc.constantFrom<unknown>(null, 'none', 'SOURCE_IP', 'HTTP_COOKIE', 'source_ip', {type: 'SOURCE_IP'}, {type: 'HTTP_COOKIE'}),
  validCookieName.map((name) => `APP_COOKIE:${name}`),
  validCookieName.map((name) => ({type: 'APP_COOKIE', cookie_name: name})),
)
export const validConnectionLimit = fc.oneof(fc.constant(-1), fc.integer({min: 1, max: 8000}), fc.integer({min: 1, max: 8000}).map(String))

// ---- checks --------------------------------------------------------------------------

/** The state file's content, the audit trail aside (see state-content.ts). */
export const stateFingerprint = stateContent

/** The same graph with every free-text field (names, descriptions, status texts) replaced by plain text. */
export function withPlainText(graph: PoolGraph): PoolGraph {
  return {
    ...graph,
    pool: {...graph.pool, name: 'plain', description: '', status_description: null},
    subnet: {...graph.subnet, name: 'plain'},
    vipSubnet: graph.vipSubnet && {...graph.vipSubnet, name: 'plain'},
    members: graph.members.map((member) => ({...member, status_description: null})),
    associations: graph.associations.map((association) => ({...association, status_description: null})),
    vip: graph.vip && {...graph.vip, name: 'plain', description: '', status_description: null},
  }
}

const PLACEHOLDER_PATH = '/placeholder-path'
const PLACEHOLDER_METHOD = 'PLACEHOLDER'
const PLACEHOLDER_COOKIE = 'placeholder-cookie'

/** The graph with url_path, http_method and cookie_name replaced by placeholders (plain words). */
function withPlaceholders(graph: PoolGraph): PoolGraph {
  const monitors = graph.monitors.map((monitor): Monitor => ({...monitor, url_path: PLACEHOLDER_PATH, http_method: PLACEHOLDER_METHOD}))
  let vip: Vip | null = graph.vip
  if (vip?.session_persistence?.type === 'APP_COOKIE') {
    vip = {...vip, session_persistence: {type: 'APP_COOKIE', cookie_name: PLACEHOLDER_COOKIE}}
  }
  return {...graph, monitors, vip}
}

/** The words of every line as HAProxy reads them (comments dropped, empty lines kept as []). */
export function configWords(config: string): string[][] {
  return config.split('\n').map((line) => splitHaproxyWords(line))
}

/**
 * Reads a sample-fetch argument the way HAProxy's argument parser does (quotes and backslash
 * escapes); throws when the text would end the argument early (an unquoted `,` or `)`).
 */
export function sampleFetchArgumentValue(text: string): string {
  let value = ''
  let quote: string | undefined
  for (let index = 0; index < text.length; index++) {
    const character = text[index]
    if (character === '\\') {
      if (index + 1 >= text.length) throw new Error(`argument ${JSON.stringify(text)} ends with a backslash`)
      value += text[++index]
    } else if (quote) {
      if (character === quote) quote = undefined
      else value += character
    } else if (character === '"' || character === "'") quote = character
    else if (character === ',' || character === ')') throw new Error(`argument ${JSON.stringify(text)} would end at ${JSON.stringify(character)}`)
    else value += character
  }
  if (quote) throw new Error(`argument ${JSON.stringify(text)} has an open quote`)
  return value
}

/**
 * What a rendered configuration must satisfy for a graph the services or a message accepted:
 * - free text never reaches the file: the rendering equals that of the same graph with plain
 *   names and descriptions;
 * - url_path, http_method and cookie_name land as exactly one word each, where the
 *   placeholders land in the rendering with placeholders: same lines, same words elsewhere.
 * Returns the problems (empty when all hold).
 */
export function renderingProblems(graph: PoolGraph, options: RenderOptions): string[] {
  const problems: string[] = []
  const render = (value: PoolGraph) => renderConfig(buildPoolView(value, options))
  const config = render(graph)
  if (render(withPlainText(graph)) !== config) problems.push('names or descriptions changed the rendered configuration')
  const actual = configWords(config)
  const expected = configWords(render(withPlaceholders(graph)))
  if (actual.length !== expected.length) return [...problems, `${actual.length} lines instead of ${expected.length}:\n${config}`]
  const monitorValues = new Map<string, Set<string>>([
    [PLACEHOLDER_PATH, new Set(graph.monitors.map((monitor) => monitor.url_path))],
    [PLACEHOLDER_METHOD, new Set(graph.monitors.map((monitor) => monitor.http_method))],
  ])
  const persistence = graph.vip?.session_persistence
  const cookie = persistence?.type === 'APP_COOKIE' ? persistence.cookie_name : undefined
  expected.forEach((words, line) => {
    const got = actual[line]
    if (got.length !== words.length) {
      problems.push(`line ${line + 1} has words ${JSON.stringify(got)}, expected the shape of ${JSON.stringify(words)}`)
      return
    }
    words.forEach((word, index) => {
      const value = got[index]
      if (value === word) return
      const candidates = monitorValues.get(word)
      if (candidates?.has(value)) return
      const fetch = /^(res|req)\.cook\((.*)\)$/.exec(word)
      const fetched = /^(res|req)\.cook\((.*)\)$/.exec(value)
      if (fetch && fetched && fetch[1] === fetched[1] && fetch[2] === PLACEHOLDER_COOKIE && cookie !== undefined) {
        try {
          if (sampleFetchArgumentValue(fetched[2]) === cookie) return
        } catch (error) {
          problems.push(`line ${line + 1}: ${(error as Error).message}`)
          return
        }
      }
      problems.push(`line ${line + 1} word ${index + 1} is ${JSON.stringify(value)} where ${JSON.stringify(word)} was expected`)
    })
  })
  return problems
}
