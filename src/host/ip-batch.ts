/**
 * `ip` in batch mode. Every `ip` process costs 2.5–6 ms to start (peers.md §5), so work
 * that belongs together is sent as one `ip -batch -` (root namespace) or
 * `ip -n NS -batch -` script. A batch stops at its first failing line; the error names
 * that line.
 */
import {ExternalCommandError} from '../domain/errors.js'
import {run, type RunResult} from './run.js'

export interface BatchOptions {
  /** Run in this namespace (`ip -n NS`), which must exist. */
  namespace?: string
  /** Ask for JSON output (`ip -j`). */
  json?: boolean
  /** Keep going after a failing line (`ip -force`). */
  force?: boolean
  timeoutMs?: number
}

function batchArgv(options: BatchOptions): string[] {
  const argv = ['ip']
  if (options.namespace !== undefined) argv.push('-n', options.namespace)
  if (options.json) argv.push('-j')
  if (options.force) argv.push('-force')
  argv.push('-batch', '-')
  return argv
}

const LINE_SAFE = /^[A-Za-z0-9_.:/ -]+$/

/**
 * Runs `lines` as one `ip` batch. Throws ExternalCommandError whose message quotes the
 * failing line. Lines are built by this layer from checked names and addresses; a line
 * with anything else (a newline, quotes) is refused, as it could smuggle in another command.
 */
export async function ipBatch(lines: readonly string[], options: BatchOptions = {}): Promise<RunResult> {
  for (const line of lines) {
    if (!LINE_SAFE.test(line)) throw new Error(`ip batch: refusing unsafe line ${JSON.stringify(line)}`)
  }
  const argv = batchArgv(options)
  const result = await run(argv, {input: `${lines.join('\n')}\n`, timeoutMs: options.timeoutMs, allowFailure: true})
  if (result.exitCode !== 0 && !options.force) {
    const failed = /Command failed -:(\d+)/.exec(result.stderr)
    const line = failed ? lines[Number(failed[1]) - 1] : undefined
    const where = options.namespace === undefined ? 'ip' : `ip -n ${options.namespace}`
    const errorText = result.stderr.replace(/\n?Command failed -:\d+\s*$/, '').trim()
    throw new ExternalCommandError(argv, result.exitCode, errorText, line ? `${where} ${line}` : `${where} -batch`)
  }
  return result
}

/**
 * Splits the output of `ip -j -batch` (one JSON document per command, back to back) into
 * the parsed documents.
 */
export function parseJsonSequence(text: string): unknown[] {
  const documents: unknown[] = []
  let depth = 0
  let start = -1
  let inString = false
  let escaped = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (inString) {
      if (escaped) escaped = false
      else if (char === '\\') escaped = true
      else if (char === '"') inString = false
      continue
    }
    if (char === '"') inString = true
    else if (char === '[' || char === '{') {
      if (depth === 0) start = i
      depth++
    } else if (char === ']' || char === '}') {
      depth--
      if (depth === 0 && start >= 0) {
        documents.push(JSON.parse(text.slice(start, i + 1)))
        start = -1
      }
    }
  }
  return documents
}

/** Runs read-only `ip -j` commands as one batch and returns one parsed document per line. */
export async function ipJsonBatch(lines: readonly string[], options: Omit<BatchOptions, 'json'> = {}): Promise<unknown[]> {
  const result = await ipBatch(lines, {...options, json: true})
  const documents = parseJsonSequence(result.stdout)
  if (documents.length !== lines.length) {
    throw new ExternalCommandError(batchArgv({...options, json: true}), result.exitCode, `expected ${lines.length} JSON documents, got ${documents.length}`)
  }
  return documents
}

/** True when an `ip` failure says the object already exists (RTNETLINK EEXIST). */
export function isFileExists(error: unknown): boolean {
  return error instanceof ExternalCommandError && /File exists/.test(error.stderr)
}
