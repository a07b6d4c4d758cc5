import {Flags} from '@oclif/core'

import {LbaasCommand} from '../src/ui/lbaas-command.js'

export const EVENT_FIELDS = ['id', 'time', 'user', 'source', 'command', 'argv', 'objects', 'pool_id', 'pool_name', 'result', 'exit_code', 'error']

export default class Events extends LbaasCommand {
  static summary = 'List the audit trail: who changed what, when, and how it ended'
  static description =
    'Every state-changing command (refused ones too, with their exit code) and every job an agent ran is recorded ' +
    'in the state file, with secrets removed from the command line. Kept for 90 days or 100,000 events, whichever is less.'
  static examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events --pool web --since 1d',
    '<%= config.bin %> events --since 2026-01-31T12:00:00Z -n 20 --json',
  ]
  static flags = {
    pool: Flags.string({description: 'only events touching this pool (name or id; a deleted pool by its name)'}),
    since: Flags.string({description: 'only events since TIME: an ISO date/time or an age such as 30m, 2h, 7d'}),
    lines: Flags.integer({char: 'n', min: 1, max: 100_000, default: 100, description: 'the newest N events'}),
  }

  async run(): Promise<readonly object[]> {
    const {flags} = await this.parseCommand(Events)
    const {events, sinceTime} = await import('../src/service/audit.js')
    const since = flags.since === undefined ? undefined : sinceTime(flags.since)
    const rows = events((await this.ctx).store, {pool: flags.pool, since, limit: flags.lines})
    const shown: object[] = this.output.format === 'table' ? rows.map((row) => ({...row, argv: row.argv.join(' '), objects: row.objects.map(describeObject).join('\n')})) : rows
    return this.showList(shown, ['time', 'user', 'command', 'objects', 'result', 'exit_code'], EVENT_FIELDS)
  }
}

function describeObject(object: {type: string; id?: string; name?: string; ref?: string}): string {
  if (object.id) return `${object.type} ${object.name ? `${object.name} (${object.id})` : object.id}`
  return `${object.type} ${object.ref ?? ''}`
}
