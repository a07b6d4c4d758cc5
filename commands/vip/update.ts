import {Args, Flags} from '@oclif/core'

import type {Vip} from '../../src/domain/types.js'
import {updateVip} from '../../src/service/vips.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class VipUpdate extends LbaasCommand {
  static summary = 'Update a VIP (session persistence is kept unless --session-persistence is given)'
  static examples = [
    '<%= config.bin %> vip update web-vip --connection-limit 500',
    '<%= config.bin %> vip update web-vip --session-persistence none',
    '<%= config.bin %> vip update web-vip --admin-state-up false',
    '<%= config.bin %> vip update web-vip --syslog 198.18.0.5:514',
    '<%= config.bin %> vip update web-https --sni-cert shop --sni-cert blog --redirect-http true',
  ]
  static args = {vip: Args.string({required: true, description: 'VIP name or id'})}
  static flags = {
    name: Flags.string({description: 'new name'}),
    description: Flags.string({description: 'new description'}),
    'connection-limit': Flags.string({description: '-1 (unlimited) or 1 to the safe maximum'}),
    'session-persistence': Flags.string({description: 'SOURCE_IP, HTTP_COOKIE, APP_COOKIE:COOKIE_NAME, or none to clear'}),
    'admin-state-up': Flags.string({description: 'true or false'}),
    pool: Flags.string({description: 'move the VIP to this pool (same protocol, no VIP yet)'}),
    'default-cert': Flags.string({description: 'TERMINATED_HTTPS: the default certificate (name or id)'}),
    'sni-cert': Flags.string({multiple: true, description: 'TERMINATED_HTTPS: the SNI certificates (repeatable; replaces the list)'}),
    'no-sni-certs': Flags.boolean({description: 'TERMINATED_HTTPS: remove every SNI certificate', exclusive: ['sni-cert']}),
    'redirect-http': Flags.string({description: 'TERMINATED_HTTPS: true or false (port-80 listener answering 301 to https://)'}),
    syslog: Flags.string({description: 'also send the access log to this syslog server (IPv4:PORT or [IPv6]:PORT, UDP), or none to stop'}),
  }

  async run(): Promise<Vip> {
    const {args, flags} = await this.parseCommand(VipUpdate)
    const vip = await updateVip(await this.ctx, args.vip, {
      name: flags.name,
      description: flags.description,
      connection_limit: flags['connection-limit'],
      session_persistence: flags['session-persistence'],
      admin_state_up: flags['admin-state-up'],
      pool: flags.pool,
      default_cert: flags['default-cert'],
      sni_certs: flags['no-sni-certs'] ? [] : flags['sni-cert'],
      redirect_http: flags['redirect-http'],
      syslog: flags.syslog,
    })
    return this.show(vip)
  }
}
