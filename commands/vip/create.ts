import {Args, Flags} from '@oclif/core'

import {PROTOCOLS, type Vip} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createVip} from '../../src/service/vips.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class VipCreate extends LbaasCommand {
  static summary = 'Create the VIP of a pool: deploys the pool on this host'
  static examples = [
    '<%= config.bin %> vip create web --name web-vip --protocol HTTP --protocol-port 80 --subnet lab',
    '<%= config.bin %> vip create web --name web-vip --protocol HTTP --protocol-port 80 --subnet lab --address 198.18.0.100 --session-persistence APP_COOKIE:JSESSIONID',
  ]
  static args = {pool: Args.string({description: 'pool name or id'})}
  static flags = {
    name: Flags.string({description: 'VIP name'}),
    protocol: Flags.string({description: "HTTP, HTTPS or TCP (the pool's protocol)"}),
    'protocol-port': Flags.string({description: 'port the VIP listens on, 1–65535'}),
    subnet: Flags.string({description: 'subnet of the VIP address (name or id)'}),
    address: Flags.string({description: 'VIP address inside the subnet (default: the first free one)'}),
    'connection-limit': Flags.string({description: '-1 (unlimited) or 1 to the safe maximum `lbaas doctor` shows [default: -1]'}),
    'session-persistence': Flags.string({description: 'SOURCE_IP, HTTP_COOKIE or APP_COOKIE:COOKIE_NAME'}),
    description: Flags.string({description: 'free text'}),
    'admin-state-down': Flags.boolean({description: 'create the VIP administratively down'}),
  }

  async run(): Promise<Vip> {
    const {args, flags} = await this.parseCommand(VipCreate)
    const input = await this.ask(
      {pool: args.pool, name: flags.name, protocol: flags.protocol, 'protocol-port': flags['protocol-port'], subnet: flags.subnet},
      {
        pool: {kind: 'input', message: 'Pool'},
        name: {kind: 'input', message: 'VIP name', validate: rules.displayName},
        protocol: {kind: 'select', message: 'Protocol', choices: PROTOCOLS, default: 'HTTP'},
        'protocol-port': {kind: 'input', message: 'Port', default: '80', validate: rules.protocolPort},
        subnet: {kind: 'input', message: 'Subnet of the VIP'},
      },
    )
    const vip = await createVip(await this.ctx, input.pool, {
      name: input.name,
      description: flags.description,
      protocol: input.protocol,
      protocol_port: input['protocol-port'],
      subnet: input.subnet,
      address: flags.address,
      connection_limit: flags['connection-limit'],
      session_persistence: flags['session-persistence'],
      admin_state_up: !flags['admin-state-down'],
    })
    return this.show(vip)
  }
}
