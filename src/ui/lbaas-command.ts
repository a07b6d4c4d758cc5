/**
 * The base of every command: global flags (SPEC §2), the application context, output in
 * the chosen format, prompts on a TTY, and the one place where errors become a message,
 * an exit code and the `--json` error object. Commands never catch to print.
 */
import {Command, Flags, type Interfaces} from '@oclif/core'

import {changedNothing, changesState} from '../domain/audit-scope.js'
import {EXIT, LbaasError, MissingValueError} from '../domain/errors.js'
import type {AppContext, Notifier} from '../service/context.js'
import {colorEnabled, jsonRequested, reportFailure} from './failure.js'
import {formatList, formatObject, FORMATS, type Format, type OutputOptions} from './format.js'
import {stderrNotifier} from './notify.js'
import {terminalNotifier} from './progress.js'
import {equivalentCommand, Guide, nothingGiven, type FlagValue} from './guide.js'
import {confirm} from './prompts.js'

export type GlobalFlags = Interfaces.InferredFlags<(typeof LbaasCommand)['baseFlags']>

const GLOBAL = 'GLOBAL'

export abstract class LbaasCommand extends Command {
  static baseFlags = {
    state: Flags.string({
      env: 'LBAAS_STATE',
      helpGroup: GLOBAL,
      description: 'state file (default /var/lib/lbaas/state.db for root, $XDG_STATE_HOME/lbaas/state.db otherwise)',
    }),
    'run-dir': Flags.string({
      env: 'LBAAS_RUN_DIR',
      helpGroup: GLOBAL,
      description: 'directory for HAProxy configs, sockets and pid files (default: beside the state file)',
    }),
    json: Flags.boolean({helpGroup: GLOBAL, description: 'print JSON (same as -f json)'}),
    format: Flags.string({char: 'f', options: [...FORMATS], helpGroup: GLOBAL, description: 'output format'}),
    column: Flags.string({char: 'c', multiple: true, helpGroup: GLOBAL, description: 'show only this column (repeatable)'}),
    'no-input': Flags.boolean({helpGroup: GLOBAL, description: 'never prompt; a missing value is an error'}),
  }

  private globals?: GlobalFlags
  private context?: AppContext
  /** For the audit trail: the positional arguments, what run() returned, the exit code of a failure. */
  private parsedArgs?: Record<string, unknown>
  private runResult?: unknown
  private failureExit?: number

  override async init(): Promise<void> {
    await super.init()
    const run = this.run.bind(this)
    this.run = async () => (this.runResult = await run())
  }

  /** Parses argv and remembers the global flags for output and the context. */
  protected async parseCommand<T extends typeof LbaasCommand>(command: T) {
    const parsed = await this.parse(command as never)
    this.globals = parsed.flags as GlobalFlags
    this.parsedArgs = parsed.args as Record<string, unknown>
    return parsed as unknown as Interfaces.ParserOutput<
      Interfaces.InferredFlags<T['flags'] & T['baseFlags']>,
      Interfaces.InferredFlags<T['baseFlags']>,
      Interfaces.InferredArgs<T['args']>
    >
  }

  protected get output(): OutputOptions {
    const flags = this.globals
    const format: Format = flags?.json ? 'json' : ((flags?.format as Format | undefined) ?? 'table')
    return {format, columns: flags?.column ?? [], color: colorEnabled()}
  }

  protected get structuredOutput(): boolean {
    return this.output.format === 'json' || this.output.format === 'yaml' || jsonRequested(this.argv)
  }

  /** Prompting is allowed: both ends are a TTY, and neither --no-input, --json nor CI say otherwise. */
  protected get interactive(): boolean {
    return Boolean(
      process.stdin.isTTY && process.stdout.isTTY && !this.globals?.['no-input'] && !this.structuredOutput && !process.env.CI,
    )
  }

  protected get ctx(): Promise<AppContext> {
    return this.openContext()
  }

  private async openContext(): Promise<AppContext> {
    if (this.context) return this.context
    const {openAppContext} = await import('../service/wiring.js')
    this.context = openAppContext({state: this.globals?.state, runDir: this.globals?.['run-dir'], notify: this.notifier()})
    return this.context
  }

  /** Steps drawn live on a terminal, plain lines on stderr otherwise, no progress with --json. */
  protected notifier(): Notifier {
    const terminal = Boolean(process.stderr.isTTY) && process.env.TERM !== 'dumb'
    const color = terminal && !('NO_COLOR' in process.env)
    if (terminal && !this.structuredOutput) return terminalNotifier({color})
    return stderrNotifier({progress: !this.structuredOutput, color})
  }

  protected async show<T extends object>(object: T): Promise<T> {
    process.stdout.write(await formatObject(object, this.output))
    return object
  }

  /** Deletes print one line in a table, the deleted object in the other formats. */
  protected async showDeleted<T extends {id: string; name?: string | null}>(resource: string, object: T): Promise<T> {
    if (this.output.format !== 'table') return this.show(object)
    process.stdout.write(`Deleted ${resource} ${object.name ? `${object.name} (${object.id})` : object.id}\n`)
    return object
  }

  protected async showList<T extends object>(rows: readonly T[], defaultColumns: readonly string[], allColumns?: readonly string[]): Promise<readonly T[]> {
    process.stdout.write(await formatList(rows, defaultColumns, this.output, allColumns))
    return rows
  }

  /** Asks for missing values on a terminal; with none of `given` set, walks through every field. */
  protected guide(given: Record<string, unknown>): Guide {
    const own = Object.entries(given).filter(([name]) => !(name in LbaasCommand.baseFlags))
    return new Guide(this.interactive, this.interactive && nothingGiven(Object.fromEntries(own)))
  }

  /** After a guided run: the one-line command that does the same without prompts (on stderr). */
  protected async printEquivalent(guide: Guide, positionals: readonly (string | undefined)[], flags: Record<string, FlagValue>): Promise<void> {
    if (!guide.askedAnything) return
    const line = await equivalentCommand(this.config.bin, this.id?.split(':') ?? [], positionals, flags)
    process.stderr.write(`\nThe same without prompts:\n  ${line}\n`)
  }

  /** On a TTY without --yes, destructive commands ask first; off a TTY they never prompt. */
  protected async confirmDestructive(message: string, yes: boolean | undefined): Promise<void> {
    if (yes || !this.interactive) return
    if (!(await confirm(message))) throw new LbaasError('cancelled', EXIT.usage, 'cancelled: nothing was changed')
  }

  /** Ends the command with the runtime exit code after it printed its own result (doctor's failed checks). */
  protected exitFailed(): never {
    this.exit(EXIT.runtime)
  }

  override async catch(error: Error & {oclif?: {exit?: number}; code?: string}): Promise<never> {
    if (error?.oclif?.exit === 0 || error?.code === 'EEXIT') throw error
    const hint = error instanceof MissingValueError ? this.missingValueHint() : undefined
    this.failureExit = reportFailure(error, {json: jsonRequested(this.argv) || this.structuredOutput, hint})
    this.exit(this.failureExit)
  }

  private missingValueHint(): string {
    const usage = `\`${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''} --help\``
    return process.stdin.isTTY ? `see ${usage}` : `give it on the command line (nothing is asked off a terminal); see ${usage}`
  }

  override async finally(error: Error | undefined): Promise<void> {
    try {
      await this.recordAudit(error)
    } finally {
      this.context?.store.close()
    }
    return super.finally(error)
  }

  /** SPEC §10: every state-changing command, refused ones included, leaves an event. */
  private async recordAudit(error: Error | undefined): Promise<void> {
    if (!this.id || !changesState(this.id, this.argv)) return
    const {recordEvent} = await import('../service/audit.js')
    const exitCode = this.failureExit ?? (error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit ?? (error ? 1 : Number(process.exitCode ?? 0))
    if (exitCode === 0 && changedNothing(this.runResult)) return
    const outcome = {commandId: this.id, argv: this.argv, args: this.parsedArgs, result: this.runResult, exitCode, error: exitCode === 0 ? undefined : error}
    if (this.context) return recordEvent(this.context.store, outcome)
    // Refused before the state file was opened (bad flags): open it just to record that, but
    // never create one (a refused command leaves a host without a state file as it was).
    try {
      const [{openStore}, {defaultStatePath}, {existsSync}] = await Promise.all([import('../store/db.js'), import('../service/context.js'), import('node:fs')])
      const statePath = this.globals?.state ?? (process.env.LBAAS_STATE || defaultStatePath())
      if (!existsSync(statePath)) return
      const store = openStore(statePath)
      try {
        recordEvent(store, outcome)
      } finally {
        store.close()
      }
    } catch {
      // No usable state file: nothing to record into.
    }
  }
}

/** `plan` and `apply` take `-f FILE` (SPEC §8.2): their output is chosen with --json alone. */
export const BASE_FLAGS_WITHOUT_FORMAT = (() => {
  const {format: _format, column: _column, ...rest} = LbaasCommand.baseFlags
  // Typed as the full set so parseCommand accepts the command; format and column are then undefined.
  return rest as typeof LbaasCommand.baseFlags
})()
