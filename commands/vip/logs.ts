import {Args, Flags} from '@oclif/core'

import type {VipLogEntry} from '../../src/service/access-log.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class VipLogs extends LbaasCommand {
  static summary = "Print a VIP's access log (--follow: new requests as they come, until Ctrl-C)"
  static description =
    "HAProxy keeps each VIP's access log in an in-memory ring (about the last 64 KiB; a reload starts it afresh): " +
    'HTTP log format for HTTP and TERMINATED_HTTPS VIPs, TCP log format otherwise. No syslog daemon is needed. ' +
    'With --json each line is one JSON object (time, client, status, member, bytes, duration_ms, request, line).'
  static examples = [
    '<%= config.bin %> vip logs web-vip',
    '<%= config.bin %> vip logs web-vip -n 20',
    '<%= config.bin %> vip logs web-vip --follow',
    '<%= config.bin %> vip logs web-vip --json | jq .status',
  ]
  static args = {vip: Args.string({required: true, description: 'VIP name or id'})}
  static flags = {
    lines: Flags.integer({char: 'n', min: 0, max: 100_000, description: 'print only the last N lines [default: all the ring holds]'}),
    follow: Flags.boolean({description: 'keep printing new lines until Ctrl-C or SIGTERM'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parseCommand(VipLogs)
    const ctx = await this.ctx
    const {followVipLog, readVipLog} = await import('../../src/service/access-log.js')
    const json = this.structuredOutput
    const print = (entry: VipLogEntry) => process.stdout.write(json ? `${JSON.stringify(entry)}\n` : `${entry.time ? `${entry.time} ` : ''}${entry.line}\n`)
    for (const entry of await readVipLog(ctx, args.vip, flags.lines)) print(entry)
    if (!flags.follow) return
    const stop = new AbortController()
    const abort = () => stop.abort()
    process.once('SIGINT', abort)
    process.once('SIGTERM', abort)
    try {
      await followVipLog(ctx, args.vip, print, stop.signal)
    } finally {
      process.off('SIGINT', abort)
      process.off('SIGTERM', abort)
    }
  }
}
