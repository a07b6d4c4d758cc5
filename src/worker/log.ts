/**
 * The worker's log: one logfmt line per event on stderr and, optionally, appended to a
 * file (0600). A job line carries action, pool, result and duration; it never carries a
 * request body (an ARCHIVE holds an object-store token).
 */
import {createWriteStream, type WriteStream} from 'node:fs'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFields = Record<string, string | number | boolean | undefined | null>

export interface WorkerLog {
  write(level: LogLevel, event: string, fields?: LogFields): void
  close(): Promise<void>
}

const BARE = /^[A-Za-z0-9_.:/@+-]+$/

function value(text: string | number | boolean): string {
  const string = String(text)
  return BARE.test(string) ? string : JSON.stringify(string)
}

/** `time=… level=… event=… key=value …`; undefined and null fields are left out. */
export function formatLogLine(level: LogLevel, event: string, fields: LogFields = {}, now = new Date()): string {
  const parts = [`time=${now.toISOString()}`, `level=${level}`, `event=${value(event)}`]
  for (const [key, field] of Object.entries(fields)) {
    if (field === undefined || field === null) continue
    parts.push(`${key}=${value(field)}`)
  }
  return parts.join(' ')
}

export function openWorkerLog(options: {file?: string; debug?: boolean; stderr?: NodeJS.WritableStream}): WorkerLog {
  const stderr = options.stderr ?? process.stderr
  let file: WriteStream | undefined
  if (options.file) {
    file = createWriteStream(options.file, {flags: 'a', mode: 0o600})
    file.on('error', (error) => stderr.write(`${formatLogLine('error', 'log_file', {file: options.file, error: error.message})}\n`))
  }
  return {
    write(level, event, fields) {
      if (level === 'debug' && !options.debug) return
      const line = `${formatLogLine(level, event, fields)}\n`
      stderr.write(line)
      file?.write(line)
    },
    close() {
      return new Promise((resolve) => (file ? file.end(() => resolve()) : resolve()))
    },
  }
}
