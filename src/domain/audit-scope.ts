/** Which commands the audit trail records (SPEC §10). Pure, and cheap to import. */

/** Verbs that change state; `sync --dry-run` and `plan` do not. */
const CHANGING_VERBS = new Set(['create', 'update', 'delete', 'associate', 'disassociate', 'apply', 'sync', 'up', 'down', 'start', 'stop', 'fail', 'heal'])

export function changesState(commandId: string, argv: readonly string[]): boolean {
  const verb = commandId.split(':').at(-1) ?? ''
  return CHANGING_VERBS.has(verb) && !argv.includes('--dry-run')
}
