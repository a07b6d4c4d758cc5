import {Args, Flags} from '@oclif/core'

import type {Vip} from '../../src/domain/types.js'
import {createVip} from '../../src/service/vips.js'
import {vipForm} from '../../src/ui/forms.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class VipCreate extends LbaasCommand {
  static summary = 'Create the VIP of a pool: deploys the pool on this host'
  static description =
    "Deploying means: a network namespace holding the VIP address, plugged into the subnet's bridge; an HAProxy " +
    'configuration checked with haproxy -c; HAProxy started. Every later change reloads it without dropping a connection. ' +
    'The address defaults to the first free one in the subnet. ' +
    'Run with no flags on a terminal to be asked for each value (existing objects offered from a list); the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> vip create web --name web-vip --protocol HTTP --protocol-port 80 --subnet lab',
    '<%= config.bin %> vip create web --name web-vip --protocol HTTP --protocol-port 80 --subnet lab --address 198.18.0.100 --session-persistence APP_COOKIE:JSESSIONID',
    '<%= config.bin %> vip create web --name web-https --protocol TERMINATED_HTTPS --protocol-port 443 --subnet lab --default-cert shop --sni-cert blog --redirect-http',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> vip create'},
  ]
  static args = {pool: Args.string({description: 'pool name or id'})}
  static flags = {
    name: Flags.string({description: 'VIP name'}),
    protocol: Flags.string({description: "HTTP, HTTPS or TCP (the pool's protocol), or TERMINATED_HTTPS on an HTTP pool"}),
    'protocol-port': Flags.string({description: 'port the VIP listens on, 1–65535'}),
    subnet: Flags.string({description: 'subnet of the VIP address (name or id)'}),
    address: Flags.string({description: 'VIP address inside the subnet (default: the first free one)'}),
    'connection-limit': Flags.string({description: '-1 (unlimited) or 1 to the safe maximum `lbaas doctor` shows [default: -1]'}),
    'session-persistence': Flags.string({description: 'SOURCE_IP, HTTP_COOKIE or APP_COOKIE:COOKIE_NAME'}),
    description: Flags.string({description: 'free text'}),
    'admin-state-down': Flags.boolean({description: 'create the VIP administratively down'}),
    'default-cert': Flags.string({description: 'TERMINATED_HTTPS: certificate served when no SNI name matches (name or id)'}),
    'sni-cert': Flags.string({multiple: true, description: 'TERMINATED_HTTPS: another certificate, chosen by its SANs (repeatable)'}),
    'redirect-http': Flags.boolean({description: 'TERMINATED_HTTPS: also listen on port 80 and answer 301 to https://'}),
    syslog: Flags.string({description: 'also send the access log to this syslog server (IPv4:PORT or [IPv6]:PORT, UDP)'}),
  }

  async run(): Promise<Vip> {
    const {args, flags} = await this.parseCommand(VipCreate)
    const ctx = await this.ctx
    const guide = this.guide({...args, ...flags})
    const form = await vipForm(guide, ctx, {...args, ...flags})
    const vip = await this.show(await createVip(ctx, form.input.pool, form.input))
    await this.printEquivalent(guide, form.positionals, form.flags)
    return vip
  }
}
