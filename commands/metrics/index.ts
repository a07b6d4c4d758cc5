import {Flags} from '@oclif/core'

import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class Metrics extends LbaasCommand {
  static summary = 'Print Prometheus metrics of every local deployed pool (--textfile: write them for node-exporter)'
  static description =
    'The text exposition format, from the same cumulative counters as `lbaas pool stats` (they never go backwards ' +
    'across reloads and restarts). A pool whose HAProxy cannot be read has lbaas_pool_up 0 instead of failing the ' +
    'scrape. Read-only: no pool lock is taken and nothing is written to the state file. --textfile DIR writes ' +
    'DIR/lbaas.prom atomically (temporary file, then rename) for the textfile collector, never with a counter lower ' +
    'than the file it replaces.'
  static examples = [
    '<%= config.bin %> metrics',
    '<%= config.bin %> metrics --textfile /var/lib/prometheus/node-exporter',
    '<%= config.bin %> metrics serve --listen 127.0.0.1:9120',
  ]
  static flags = {
    textfile: Flags.string({description: "write DIR/lbaas.prom atomically instead of printing (node-exporter's textfile collector)"}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parseCommand(Metrics)
    const ctx = await this.ctx
    const [{readMetrics, monotonicCounters}, {exposition}] = await Promise.all([import('../../src/service/metrics.js'), import('../../src/ui/metrics-exposition.js')])
    const reading = await readMetrics(ctx)
    if (flags.textfile === undefined) {
      process.stdout.write(await exposition(reading))
      return
    }
    const {exposedCounters, writeTextfile} = await import('../../src/ui/metrics-textfile.js')
    const text = await exposition(monotonicCounters(exposedCounters(flags.textfile))(reading))
    process.stderr.write(`wrote ${writeTextfile(flags.textfile, text)}\n`)
  }
}
