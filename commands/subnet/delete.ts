import {Args, Flags} from '@oclif/core'

import type {Subnet} from '../../src/domain/types.js'
import {deleteSubnet} from '../../src/service/subnets.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class SubnetDelete extends LbaasCommand {
  static summary = 'Delete a subnet (refused while a pool or VIP uses it)'
  static examples = ['<%= config.bin %> subnet delete lab --yes']
  static args = {subnet: Args.string({required: true, description: 'subnet name or id'})}
  static flags = {yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'})}

  async run(): Promise<Subnet> {
    const {args, flags} = await this.parseCommand(SubnetDelete)
    await this.confirmDestructive(`Delete subnet ${args.subnet}?`, flags.yes)
    return this.showDeleted('subnet', await deleteSubnet(await this.ctx, args.subnet))
  }
}
