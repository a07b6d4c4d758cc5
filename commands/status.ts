import {Args} from '@oclif/core'

import {statusTrees, type PoolStatusTree} from '../src/service/status.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'
import {renderStatusTrees} from '../src/ui/status-tree.js'

export default class Status extends LbaasCommand {
  static summary = 'Show the status tree: VIP → pool → members and monitors'
  static description = 'Member health is read live from HAProxy for deployed pools.'
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status web', '<%= config.bin %> status --json']
  static args = {pool: Args.string({description: 'only this pool (name or id)'})}

  async run(): Promise<PoolStatusTree[]> {
    const {args} = await this.parseCommand(Status)
    const trees = await statusTrees(await this.ctx, args.pool)
    if (this.output.format === 'table') process.stdout.write(renderStatusTrees(trees, this.output.color))
    else await this.showList(trees, ['vip', 'pool', 'members', 'monitors'])
    return trees
  }
}
