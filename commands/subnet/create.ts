import {Args, Flags} from '@oclif/core'

import type {Subnet} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createSubnet, subnetNetwork} from '../../src/service/subnets.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class SubnetCreate extends LbaasCommand {
  static summary = 'Create a subnet: the network members and VIPs live on'
  static description =
    'Without --bridge, lbaas creates and owns a Linux bridge (lbbr-…) holding the gateway address. ' +
    'With --bridge, an existing bridge is used and never modified beyond attaching veths.'
  static examples = [
    '<%= config.bin %> subnet create lab --cidr 198.18.0.0/24',
    '<%= config.bin %> subnet create office --cidr 198.18.1.0/24 --gateway 198.18.1.254 --bridge br0',
  ]
  static args = {name: Args.string({description: 'subnet name: 1–64 of A-Z a-z 0-9 . _ -'})}
  static flags = {
    cidr: Flags.string({description: 'IPv4 or IPv6 network, e.g. 198.18.0.0/24'}),
    gateway: Flags.string({description: 'gateway address inside the network (default: the first host address)'}),
    bridge: Flags.string({description: 'use this existing Linux bridge instead of creating one'}),
  }

  async run(): Promise<Subnet> {
    const {args, flags} = await this.parseCommand(SubnetCreate)
    const input = await this.ask(
      {name: args.name, cidr: flags.cidr},
      {
        name: {kind: 'input', message: 'Subnet name', validate: rules.subnetName},
        cidr: {kind: 'input', message: 'Network (CIDR)', default: '198.18.0.0/24', validate: subnetNetwork},
      },
    )
    const ctx = await this.ctx
    return this.show(await createSubnet(ctx, {name: input.name, cidr: input.cidr, gateway_ip: flags.gateway, bridge: flags.bridge}))
  }
}
