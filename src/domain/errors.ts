/**
 * Typed errors. Every failure the CLI reports is one of these; the base command maps
 * them to a message on stderr (or a JSON error object), and to the exit code of SPEC §2.
 * Tests assert `code`, never the prose.
 */

export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  configRejected: 3,
  conflict: 4,
  notFound: 5,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export class LbaasError extends Error {
  readonly code: string
  readonly exit: ExitCode
  /** The next command to try, shown under the message. */
  readonly suggestion?: string

  constructor(code: string, exit: ExitCode, message: string, suggestion?: string) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.exit = exit
    this.suggestion = suggestion
  }
}

/** Bad flag, missing argument, malformed value: exit 2, nothing changed. */
export class UsageError extends LbaasError {
  constructor(message: string, suggestion?: string, code = 'usage_error') {
    super(code, EXIT.usage, message, suggestion)
  }
}

/** A value breaks a rule of SPEC §1. `code` is `invalid_<field>`. */
export class ValidationError extends LbaasError {
  readonly field: string

  constructor(field: string, message: string, suggestion?: string) {
    super(`invalid_${field}`, EXIT.usage, message, suggestion)
    this.field = field
  }
}

/** A required value was not given (off a TTY nothing prompts for it). */
export class MissingValueError extends LbaasError {
  readonly field: string

  /** `what`: the flag (`--cidr`) or a positional argument (`argument POOL`). */
  constructor(field: string, what = `--${field.replaceAll('_', '-')}`, suggestion?: string) {
    super(`missing_${field}`, EXIT.usage, `missing required ${what.startsWith('-') ? `flag ${what}` : what}`, suggestion)
    this.field = field
  }
}

/** A reference matched more than one object. */
export class AmbiguousNameError extends LbaasError {
  readonly ids: string[]

  constructor(resource: string, name: string, ids: string[]) {
    super(
      'ambiguous_name',
      EXIT.usage,
      `more than one ${resource} is named ${JSON.stringify(name)}: ${ids.join(', ')}`,
      `use one of these ids instead of the name; \`lbaas ${resource} list\` shows which is which`,
    )
    this.ids = ids
  }
}

export class NotFoundError extends LbaasError {
  constructor(resource: string, ref: string, suggestion = `try \`lbaas ${resource} list\``) {
    super('not_found', EXIT.notFound, `no ${resource} with name or id ${JSON.stringify(ref)}`, suggestion)
  }
}

export class NotAssociatedError extends LbaasError {
  constructor(monitorId: string, poolName: string) {
    super('not_found', EXIT.notFound, `monitor ${monitorId} is not associated with pool ${poolName}`, `try \`lbaas pool show ${poolName}\``)
  }
}

/** In use, duplicate, already associated, lock held: exit 4, nothing changed. */
export class ConflictError extends LbaasError {
  constructor(code: string, message: string, suggestion?: string) {
    super(code, EXIT.conflict, message, suggestion)
  }
}

/** HAProxy refused the rendered configuration; the running one was left alone. */
export class ConfigRejectedError extends LbaasError {
  readonly haproxyOutput: string

  constructor(poolId: string, haproxyOutput: string) {
    super(
      'config_rejected',
      EXIT.configRejected,
      `HAProxy rejected the configuration for pool ${poolId}; the running configuration was kept:\n${haproxyOutput.trim()}`,
    )
    this.haproxyOutput = haproxyOutput
  }
}

/** A program (ip, haproxy, ...) failed. Keeps argv, exit code and stderr for the operator. */
export class ExternalCommandError extends LbaasError {
  readonly argv: readonly string[]
  readonly exitCode: number | undefined
  readonly stderr: string

  constructor(argv: readonly string[], exitCode: number | undefined, stderr: string, what?: string) {
    const detail = stderr.trim() || (exitCode === undefined ? 'did not finish' : `exit code ${exitCode}`)
    super('command_failed', EXIT.runtime, `${what ?? argv.join(' ')}: ${detail}`)
    this.argv = argv
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

/** Any other failure at run time (host state, HAProxy not serving, I/O). */
export class RuntimeFailure extends LbaasError {
  constructor(code: string, message: string, suggestion?: string) {
    super(code, EXIT.runtime, message, suggestion)
  }
}

/** A rule of the program itself was broken (a bug, not the operator's input): exit 1, code internal_error. */
export class InternalError extends RuntimeFailure {
  constructor(detail: string) {
    super('internal_error', `internal error: ${detail}`)
  }
}

export class AgentUnreachableError extends LbaasError {
  constructor(agent: string, detail: string) {
    super('agent_unreachable', EXIT.runtime, `agent ${agent} did not answer: ${detail}`, 'try `lbaas agent list`')
  }
}

/**
 * An apply file that cannot be applied as it stands (SPEC §8.2): every problem with its
 * path. Exit 2 for file errors, 4 when the only problems are names another stack owns.
 */
export class ApplyFileError extends LbaasError {
  readonly problems: readonly {path: string; message: string}[]

  constructor(problems: readonly {path: string; message: string}[], conflict = false) {
    const lines = problems.slice(0, 50).map((problem) => `  ${problem.path}: ${problem.message}`)
    if (problems.length > 50) lines.push(`  … and ${problems.length - 50} more`)
    super(
      conflict ? 'stack_conflict' : 'invalid_file',
      conflict ? EXIT.conflict : EXIT.usage,
      `${conflict ? 'the file clashes with objects of another stack' : 'the file is not valid'}; nothing was changed:\n${lines.join('\n')}`,
      conflict ? 'rename the objects in the file, or remove them from the other stack' : undefined,
    )
    this.problems = problems
  }
}
