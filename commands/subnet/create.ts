import {Args, Flags} from '@oclif/core'

import type {Subnet} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createSubnet, subnetNetwork} from '../../src/service/subnets.js'
import {freeNetworkSuggestion} from '../../src/ui/choices.js'
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
    const name = await guide.required('name', args.name, {kind: 'input', message: 'Subnet name', validate: rules.subnetName}, {positional: true})
    const cidr = await guide.required('cidr', flags.cidr, () => ({
      kind: 'input',
      message: 'Network (CIDR)',
      default: freeNetworkSuggestion(ctx),
      validate: subnetNetwork,
    }))
    const gateway = await guide.optional(flags.gateway, {
      kind: 'input',
      message: 'Gateway address (empty: the first host address)',
      optional: true,
      validate: (value) => rules.ipAddress('gateway_ip', value),
    })
    const bridge = await guide.optional(flags.bridge, {
      kind: 'input',
      message: 'Existing Linux bridge to use (empty: lbaas creates and owns one)',
      optional: true,
      validate: rules.bridgeName,
    })
    const subnet = await createSubnet(ctx, {name, cidr, gateway_ip: gateway, bridge})
    await this.show(subnet)
    await this.printEquivalent(guide, [name], {cidr, gateway, bridge})
    return subnet
  }
}
