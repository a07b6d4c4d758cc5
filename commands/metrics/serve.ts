import {Flags} from '@oclif/core'

import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MetricsServe extends LbaasCommand {
  static summary = 'Serve Prometheus metrics on /metrics until SIGTERM'
  static description =
    'Every scrape reads every local deployed pool afresh (the same figures as `lbaas metrics`; no pool lock, nothing ' +
    'written); a counter never shows a scrape a lower value than an earlier scrape of this server. ' +
    'A port already in use is an error (exit 4). SIGTERM or SIGINT stops the server cleanly (exit 0).'
  static examples = ['<%= config.bin %> metrics serve', '<%= config.bin %> metrics serve --listen 0.0.0.0:9120']
  static flags = {
    listen: Flags.string({default: '127.0.0.1:9120', description: 'ADDRESS:PORT to listen on ([IPv6]:PORT for IPv6)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parseCommand(MetricsServe)
    const ctx = await this.ctx
    const [{readMetrics, monotonicCounters}, {exposition, CONTENT_TYPE}, {serveMetrics}] = await Promise.all([
      import('../../src/service/metrics.js'),
      import('../../src/ui/metrics-exposition.js'),
      import('../../src/ui/metrics-server.js'),
    ])
    const monotonic = monotonicCounters()
    await serveMetrics({
      listen: flags.listen,
      contentType: CONTENT_TYPE,
      scrape: async () => exposition(monotonic(await readMetrics(ctx))),
      onListening: (url) => ctx.notify.info(`serving metrics on ${url} (SIGTERM to stop)`),
    })
  }
}
