import {Flags} from '@oclif/core'

import {DEFAULT_SYNC_WAIT_MS, sync, type SyncAction, type SyncResult} from '../src/service/sync.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class Sync extends LbaasCommand {
  static summary = 'Make this host match the state file (after a reboot, a crash, or manual meddling)'
  static description =
    'Re-creates missing bridges, namespaces, VIP plugs and HAProxy processes, reloads pools whose running ' +
    'configuration differs, settles stale PENDING_* statuses, restarts lab backends, and removes this ' +
    "tool's orphans (namespaces, links, processes and run files of no pool). Every action runs on its own: " +
    'exit 0 only when everything converged, exit 1 naming every object that did not. A second run changes nothing.'
  static examples = ['<%= config.bin %> sync', '<%= config.bin %> sync --dry-run --json', '<%= config.bin %> sync --parallel 4 --wait 0']
  static flags = {
    'dry-run': Flags.boolean({description: 'print the plan, change nothing (--json: an array of {kind, target, reason})'}),
    parallel: Flags.integer({min: 1, max: 256, description: 'actions at once (default: 2 × CPU cores)'}),
    wait: Flags.integer({min: 0, description: `seconds to wait for another sync of this state file before exit 4 (default ${DEFAULT_SYNC_WAIT_MS / 1_000})`}),
  }

  async run(): Promise<SyncResult | SyncAction[]> {
    const {flags} = await this.parseCommand(Sync)
    const result = await sync(await this.ctx, {
      dryRun: flags['dry-run'],
      parallel: flags.parallel,
      waitMs: flags.wait === undefined ? undefined : flags.wait * 1_000,
    })
    if (this.output.format === 'table' && result.actions.length === 0) {
      process.stdout.write(`nothing to do: the host matches the state file\n`)
      return result
    }
    // SPEC §4.5: in every format, the plan of a dry run is the list of actions itself.
    if (result.dry_run || this.output.format === 'table' || this.output.format === 'value' || this.output.format === 'csv') {
      await this.showList(result.actions, ['kind', 'target', 'reason'])
      return result.dry_run ? result.actions : result
    }
    return this.show(result)
  }
}
