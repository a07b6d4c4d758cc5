import {Args, Flags} from '@oclif/core'

import type {Vip} from '../../src/domain/types.js'
import {deleteVip} from '../../src/service/vips.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class VipDelete extends LbaasCommand {
  static summary = 'Delete a VIP: the pool stops being served'
  static description = "HAProxy stops and the pool's namespace is removed; the pool, its members and monitors stay."
  static examples = ['<%= config.bin %> vip delete web-vip --yes']
  static args = {vip: Args.string({required: true, description: 'VIP name or id'})}
  static flags = {yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'})}

  async run(): Promise<Vip> {
    const {args, flags} = await this.parseCommand(VipDelete)
    await this.confirmDestructive(`Delete VIP ${args.vip}?`, flags.yes)
    return this.showDeleted('vip', await deleteVip(await this.ctx, args.vip))
  }
}
