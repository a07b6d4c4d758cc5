/**
 * Progress on a terminal (SPEC §2): each step of multi-step work drawn by listr2 on stderr
 * with a spinner while it runs and its duration once done. A step started inside another
 * step becomes a line under it (with its own duration), so services may nest steps freely.
 * listr2 is imported lazily, on the first step: commands without steps never load it.
 */
import type {Notifier} from '../service/context.js'

interface RunningStep {
  lines: string[]
  show(lines: string[]): void
}

/** `85 ms`, `2.4 s`: steps here take milliseconds to seconds. */
export function formatDuration(elapsedMs: number): string {
  const rounded = Math.round(elapsedMs)
  return rounded < 1000 ? `${rounded} ms` : `${(rounded / 1000).toFixed(1)} s`
}

export function terminalNotifier(options: {color: boolean}): Notifier {
  const paint = (code: string, text: string) => (options.color ? `\u001B[${code}m${text}\u001B[0m` : text)
  let running: RunningStep | undefined

  async function nestedStep<T>(parent: RunningStep, title: string, work: () => Promise<T>): Promise<T> {
    const index = parent.lines.push(`… ${title}`) - 1
    parent.show(parent.lines)
    const started = performance.now()
    try {
      const result = await work()
      parent.lines[index] = `${paint('32', '✔')} ${title} ${paint('2', `(${formatDuration(performance.now() - started)})`)}`
      return result
    } catch (error) {
      parent.lines[index] = `${paint('31', '✖')} ${title}`
      throw error
    } finally {
      parent.show(parent.lines)
    }
  }

  return {
    // While a step is drawn, listr2 holds stderr writes back and prints them after the step.
    warn: (message) => process.stderr.write(`${paint('33', 'warning:')} ${message}\n`),
    info(message) {
      if (running) {
        running.lines.push(message)
        running.show(running.lines)
      } else process.stderr.write(`${message}\n`)
    },
    async step<T>(title: string, work: () => Promise<T>): Promise<T> {
      if (running) return nestedStep(running, title, work)
      const {color, DefaultRenderer, Listr, ListrLogger, ProcessOutput} = await import('listr2')
      // listr2 draws on stdout, and only when stdout is a terminal; progress belongs on stderr.
      class StderrRenderer extends DefaultRenderer {
        static override nonTTY = true
      }
      const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stdout, {leaveEmptyLine: false})})
      let result: T | undefined
      const list = new Listr(
        [
          {
            title,
            task: async (_context, task) => {
              const step: RunningStep = {lines: [], show: (lines) => (task.output = lines.join('\n'))}
              running = step
              try {
                result = await work()
              } finally {
                running = undefined
              }
            },
            rendererOptions: {persistentOutput: true, outputBar: true},
          },
        ],
        {
          renderer: StderrRenderer,
          rendererOptions: {
            logger,
            timer: {condition: true, field: formatDuration, format: () => (text?: string) => (options.color ? color.dim(text ?? '') : (text ?? ''))},
            showErrorMessage: false,
            collapseErrors: false,
          },
          exitOnError: true,
          registerSignalListeners: false,
        },
      )
      await list.run()
      return result as T
    },
  }
}
