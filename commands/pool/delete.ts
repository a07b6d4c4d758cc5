import {Args, Flags} from '@oclif/core'

import type {Pool} from '../../src/domain/types.js'
import {deletePool} from '../../src/service/pools.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class PoolDelete extends LbaasCommand {
  static summary = 'Delete a pool with its members and monitor associations (refused while a VIP uses it)'
  static examples = ['<%= config.bin %> pool delete web --yes']
  static args = {pool: Args.string({required: true, description: 'pool name or id'})}
  static flags = {yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'})}

  async run(): Promise<Pool> {
    const {args, flags} = await this.parseCommand(PoolDelete)
    await this.confirmDestructive(`Delete pool ${args.pool} and its members?`, flags.yes)
    return this.showDeleted('pool', await deletePool(await this.ctx, args.pool))
  }
}
