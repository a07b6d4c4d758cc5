import {Flags} from '@oclif/core'

import {assertConverged, sync, type SyncResult} from '../src/service/sync.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class Sync extends LbaasCommand {
  static summary = 'Make this host match the state file (after a reboot, a crash, or manual meddling)'
  static description =
    'Re-creates missing bridges, namespaces, VIP plugs and HAProxy processes, reloads pools whose running ' +
    'configuration differs, settles stale PENDING_* statuses, restarts lab backends, and removes this ' +
    "tool's orphans (namespaces, links, processes and run files of no pool). On a controller " +
    '(LBAAS_GEARMAN_SERVERS) it also settles pools placed on agents and moves the pools of dead agents. ' +
    'A second run changes nothing. Exit 1 names every object that did not converge.'
  static examples = ['<%= config.bin %> sync', '<%= config.bin %> sync --dry-run', '<%= config.bin %> sync --dead-after 120 --max-moves 5']
  static flags = {
    'dry-run': Flags.boolean({description: 'print the plan, change nothing'}),
    'dead-after': Flags.integer({min: 1, default: 60, description: 'seconds without a DISCOVER answer after which an agent is dead and its pools move'}),
    'max-moves': Flags.integer({min: 0, default: 10, description: 'at most this many pools of dead agents move per run'}),
  }

  async run(): Promise<SyncResult> {
    const {flags} = await this.parseCommand(Sync)
    const result = await sync(await this.ctx, {dryRun: flags['dry-run'], deadAfterMs: flags['dead-after'] * 1000, maxMoves: flags['max-moves']})
    if (this.output.format === 'table' && result.actions.length === 0) {
      process.stdout.write(`nothing to do: the host matches the state file\n`)
      return result
    }
    const structured = this.output.format === 'json' || this.output.format === 'yaml'
    if (!structured) await this.showList(result.actions, ['kind', 'target', 'reason'])
    else if (result.failures.length === 0) await this.show(result)
    assertConverged(result)
    return result
  }
}
