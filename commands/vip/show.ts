import {Args} from '@oclif/core'

import type {Vip} from '../../src/domain/types.js'
import {showVip} from '../../src/service/vips.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class VipShow extends LbaasCommand {
  static summary = 'Show a VIP'
  static examples = ['<%= config.bin %> vip show web-vip', '<%= config.bin %> vip show web-vip -f value -c address']
  static args = {vip: Args.string({required: true, description: 'VIP name or id'})}

  async run(): Promise<Vip> {
    const {args} = await this.parseCommand(VipShow)
    return this.show(showVip(await this.ctx, args.vip))
  }
}
