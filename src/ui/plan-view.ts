/**
 * The plan as an operator reads it (`lbaas plan`, `lbaas apply`): one line per object
 * that changes, its fields old → new, the host effect of each pool, and a summary.
 */
import type {ChangeReport} from '../service/declarative.js'

const SYMBOL: Record<string, string> = {create: '+', update: '~', delete: '-', adopt: '&', none: ' '}

function shown(value: unknown): string {
  if (value === null || value === undefined) return '(none)'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export function renderPlan(report: ChangeReport): string {
  if (!report.changed) return 'no changes: the state matches the file\n'
  const lines: string[] = []
  for (const action of report.actions) {
    const host = action.host && action.host !== 'none' ? ` (host: ${action.host})` : ''
    if (action.op === 'none' && !host) continue
    lines.push(`${SYMBOL[action.op]} ${action.kind} ${action.name}: ${action.op === 'none' ? 'unchanged' : action.op}${host}`)
    for (const [field, change] of Object.entries(action.fields)) {
      lines.push(action.op === 'create' ? `    ${field}: ${shown(change.to)}` : `    ${field}: ${shown(change.from)} → ${shown(change.to)}`)
    }
  }
  const count = (op: string) => report.actions.filter((action) => action.op === op).length
  const hosts = new Map<string, number>()
  for (const action of report.actions) if (action.kind === 'pool' && action.host && action.host !== 'none') hosts.set(action.host, (hosts.get(action.host) ?? 0) + 1)
  const hostSummary = [...hosts].map(([effect, n]) => `${n} ${effect}`).join(', ') || 'nothing'
  const rotations = report.actions.filter((action) => action.kind === 'cert' && action.host === 'runtime').length
  const rotationSummary = rotations > 0 ? `; certificates rotated through the runtime API: ${rotations}` : ''
  lines.push('', `Plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('adopt')} to adopt; pools on the host: ${hostSummary}${rotationSummary}.`)
  return `${lines.join('\n')}\n`
}

export function renderApplied(report: ChangeReport): string {
  if (!report.changed) return 'no changes: the state matches the file\n'
  const text = renderPlan(report).replace(/\nPlan: /, '\nApplied: ')
  const failures = report.errors.map((error) => `error: ${error.kind} ${error.name}: ${error.message}`)
  return failures.length > 0 ? `${text}${failures.join('\n')}\n` : text
}
