import {Args, Flags} from '@oclif/core'

import type {Member} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createMember} from '../../src/service/members.js'
import {poolChoices} from '../../src/ui/choices.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MemberCreate extends LbaasCommand {
  static summary = 'Add a member (a backend server) to a pool'
  static description =
    'The member takes traffic once the pool has a VIP; --weight 0 keeps it in the pool without new connections. ' +
    'Run with no flags on a terminal to be asked for each value (existing objects offered from a list); the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> member create web --address 198.18.0.11 --protocol-port 8000',
    '<%= config.bin %> member create web --address 198.18.0.12 --protocol-port 8000 --weight 3',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> member create'},
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
    const ctx = await this.ctx
    const guide = this.guide({...args, ...flags})
    const pool = await guide.required('pool', args.pool, () => ({kind: 'pick', message: 'Pool', choices: poolChoices(ctx), other: 'another pool…'}), {
      positional: true,
    })
    const address = await guide.required('address', flags.address, {
      kind: 'input',
      message: 'Member address',
      validate: (value) => rules.ipAddress('address', value),
    })
    const port = await guide.required('protocol-port', flags['protocol-port'], {kind: 'input', message: 'Member port', validate: rules.protocolPort})
    const weight = await guide.optional(flags.weight, {
      kind: 'input',
      message: 'Weight, 0–256 (0: no new connections)',
      default: '1',
      validate: rules.weight,
    })
    const member = await createMember(ctx, pool, {
      address,
      protocol_port: port,
      weight,
      admin_state_up: !flags['admin-state-down'],
    })
    await this.show(member)
    await this.printEquivalent(guide, [pool], {address, 'protocol-port': port, weight, 'admin-state-down': flags['admin-state-down']})
    return member
  }
}
