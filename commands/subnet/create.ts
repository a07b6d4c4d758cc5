import {Args, Flags} from '@oclif/core'

import type {Subnet} from '../../src/domain/types.js'
import {createSubnet} from '../../src/service/subnets.js'
import {subnetForm} from '../../src/ui/forms.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class SubnetCreate extends LbaasCommand {
  static summary = 'Create a subnet: the network members and VIPs live on'
  static description =
    'Without --bridge, lbaas creates and owns a Linux bridge (lbbr-…) holding the gateway address. ' +
    'With --bridge, an existing bridge is used and never modified beyond attaching veths. ' +
    'Run with no flags on a terminal to be asked for each value; the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> subnet create lab --cidr 198.18.0.0/24',
    '<%= config.bin %> subnet create office --cidr 198.18.1.0/24 --gateway 198.18.1.254 --bridge br0',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> subnet create'},
  ]
  static args = {name: Args.string({description: 'subnet name: 1–64 of A-Z a-z 0-9 . _ -'})}
  static flags = {
    cidr: Flags.string({description: 'IPv4 or IPv6 network, e.g. 198.18.0.0/24'}),
    gateway: Flags.string({description: 'gateway address inside the network (default: the first host address)'}),
    bridge: Flags.string({description: 'use this existing Linux bridge instead of creating one'}),
  }

  async run(): Promise<Subnet> {
    const {args, flags} = await this.parseCommand(SubnetCreate)
    const ctx = await this.ctx
    const guide = this.guide({...args, ...flags})
    const form = await subnetForm(guide, ctx, {...args, ...flags})
    const subnet = await this.show(await createSubnet(ctx, form.input))
    await this.printEquivalent(guide, form.positionals, form.flags)
    return subnet
  }
}
