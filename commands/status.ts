import {Args} from '@oclif/core'

import {expiringCertificates, expiryWarning} from '../src/service/certificates.js'
import {statusTrees, type PoolStatusTree} from '../src/service/status.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'
import {renderStatusTrees} from '../src/ui/status-tree.js'

export default class Status extends LbaasCommand {
  static summary = 'Show the status tree: VIP → pool → members and monitors'
  static description = 'Member health is read live from HAProxy for deployed pools. Certificates expiring within 30 days are warned about on stderr.'
  static examples = ['<%= config.bin %> status', '<%= config.bin %> status web', '<%= config.bin %> status --json']
  static args = {pool: Args.string({description: 'only this pool (name or id)'})}

  async run(): Promise<PoolStatusTree[]> {
    const {args} = await this.parseCommand(Status)
    const ctx = await this.ctx
    const trees = await statusTrees(ctx, args.pool)
    // SPEC §9: on stderr, so the tree (and --json) keeps its shape.
    for (const certificate of expiringCertificates(ctx)) ctx.notify.warn(expiryWarning(certificate))
    if (this.output.format === 'table') process.stdout.write(renderStatusTrees(trees, this.output.color))
    else await this.showList(trees, ['vip', 'pool', 'members', 'monitors'])
    return trees
  }
}
