import {Args, Flags} from '@oclif/core'

import type {Member} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createMember} from '../../src/service/members.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MemberCreate extends LbaasCommand {
  static summary = 'Add a member (a backend server) to a pool'
  static examples = [
    '<%= config.bin %> member create web --address 198.18.0.11 --protocol-port 8000',
    '<%= config.bin %> member create web --address 198.18.0.12 --protocol-port 8000 --weight 3',
  ]
  static args = {pool: Args.string({description: 'pool name or id'})}
  static flags = {
    address: Flags.string({description: 'member IPv4 or IPv6 address'}),
    'protocol-port': Flags.string({description: 'member port, 1–65535'}),
    weight: Flags.string({description: 'share of new connections, 0–256 (0: none) [default: 1]'}),
    'admin-state-down': Flags.boolean({description: 'add the member administratively down'}),
  }

  async run(): Promise<Member> {
    const {args, flags} = await this.parseCommand(MemberCreate)
    const input = await this.ask(
      {pool: args.pool, address: flags.address, 'protocol-port': flags['protocol-port']},
      {
        pool: {kind: 'input', message: 'Pool'},
        address: {kind: 'input', message: 'Member address', validate: (value) => rules.ipAddress('address', value)},
        'protocol-port': {kind: 'input', message: 'Member port', validate: rules.protocolPort},
      },
    )
    const member = await createMember(await this.ctx, input.pool, {
      address: input.address,
      protocol_port: input['protocol-port'],
      weight: flags.weight,
      admin_state_up: !flags['admin-state-down'],
    })
    return this.show(member)
  }
}
