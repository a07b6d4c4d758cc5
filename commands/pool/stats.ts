import {Args, Flags} from '@oclif/core'

import type {PoolStats} from '../../src/domain/types.js'
import {samplePoolTraffic, watchIntervalSeconds} from '../../src/service/pool-traffic.js'
import {poolStats, showPool} from '../../src/service/pools.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class PoolStatsCommand extends LbaasCommand {
  static summary = "Show a pool's traffic counters and member health (--watch: live, until Ctrl-C)"
  static description =
    'Counters are cumulative across HAProxy reloads and restarts and never go backwards. ' +
    'With --watch, a table of the members (status, last check, sessions, bytes, requests/s) is redrawn every ' +
    'interval until Ctrl-C; off a terminal each reading is printed below the last, and with --json as one JSON line.'
  static examples = [
    '<%= config.bin %> pool stats web',
    '<%= config.bin %> pool stats web --json',
    '<%= config.bin %> pool stats web --watch',
    '<%= config.bin %> pool stats web --watch --interval 0.5',
  ]
  static args = {pool: Args.string({required: true, description: 'pool name or id'})}
  static flags = {
    watch: Flags.boolean({char: 'w', description: 'redraw a table of the members every interval until Ctrl-C'}),
    interval: Flags.string({description: 'seconds between readings with --watch, 0.5–3600 [default: 2]', dependsOn: ['watch']}),
  }

  async run(): Promise<PoolStats | void> {
    const {args, flags} = await this.parseCommand(PoolStatsCommand)
    const ctx = await this.ctx
    if (!flags.watch) return this.show(await poolStats(ctx, args.pool))
    const intervalSeconds = watchIntervalSeconds(flags.interval)
    const poolId = showPool(ctx, args.pool).id
    const {watchPool} = await import('../../src/ui/pool-watch.js')
    await watchPool({
      sample: () => samplePoolTraffic(ctx, poolId),
      intervalSeconds,
      mode: this.structuredOutput ? 'json' : process.stdout.isTTY ? 'terminal' : 'lines',
      color: this.output.color,
    })
  }
}
