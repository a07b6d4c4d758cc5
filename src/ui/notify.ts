/**
 * Progress and warnings on stderr (SPEC §2): one plain line per finished step off a TTY,
 * nothing for progress with --json; warnings always go to stderr.
 */
import type {Notifier} from '../service/context.js'

export function stderrNotifier(options: {progress: boolean; color: boolean}): Notifier {
  const paint = (code: string, text: string) => (options.color ? `\u001B[${code}m${text}\u001B[0m` : text)
  return {
    warn: (message) => process.stderr.write(`${paint('33', 'warning:')} ${message}\n`),
    info: (message) => {
      if (options.progress) process.stderr.write(`${message}\n`)
    },
    async step(title, work) {
      const started = performance.now()
      try {
        const result = await work()
        if (options.progress) process.stderr.write(`${paint('32', 'ok')}   ${title} (${Math.round(performance.now() - started)} ms)\n`)
        return result
      } catch (error) {
        if (options.progress) process.stderr.write(`${paint('31', 'fail')} ${title}\n`)
        throw error
      }
    },
  }
}
