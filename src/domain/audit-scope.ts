/** Which commands the audit trail records (SPEC §10). Pure, and cheap to import. */

/** Verbs that change state; `sync --dry-run` and `plan` do not. */
const CHANGING_VERBS = new Set(['create', 'update', 'delete', 'associate', 'disassociate', 'apply', 'sync', 'up', 'down', 'start', 'stop', 'fail', 'heal'])

export function changesState(commandId: string, argv: readonly string[]): boolean {
  const verb = commandId.split(':').at(-1) ?? ''
  return CHANGING_VERBS.has(verb) && !argv.includes('--dry-run')
}

/**
 * A command that succeeded and changed nothing (an apply with no changes, a sync with nothing
 * to do) leaves no event: a second apply of the same file writes nothing (SPEC §8.2), and a
 * sync timer does not fill the trail with no-ops.
 */
export function changedNothing(result: unknown): boolean {
  if (typeof result !== 'object' || result === null) return false
  const report = result as {changed?: unknown; actions?: unknown; dry_run?: unknown}
  if (report.changed === false) return true
  return 'dry_run' in report && Array.isArray(report.actions) && report.actions.length === 0
}
