import {Args} from '@oclif/core'

import type {Subnet} from '../../src/domain/types.js'
import {showSubnet} from '../../src/service/subnets.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class SubnetShow extends LbaasCommand {
  static summary = 'Show a subnet'
  static examples = ['<%= config.bin %> subnet show lab']
  static args = {subnet: Args.string({required: true, description: 'subnet name or id'})}

  async run(): Promise<Subnet> {
    const {args} = await this.parseCommand(SubnetShow)
    return this.show(showSubnet(await this.ctx, args.subnet))
  }
}
