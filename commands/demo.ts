import {Flags} from '@oclif/core'

import {join} from 'node:path'

import {assertDemoPreconditions, DEMO_DEFAULTS, runDemo, silentDemoReporter, type DemoReport} from '../src/service/demo.js'
import {runHaDemo, type HaDemoReport} from '../src/service/demo-ha.js'
import {demoEpilogue, demoReporter, haDemoEpilogue} from '../src/ui/demo-view.js'
import {twoStageInterrupt} from '../src/ui/interrupt.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class Demo extends LbaasCommand {
  static summary = 'Run the whole workflow on a throw-away lab, end to end, and print the commands it ran'
  static description =
    'lab up → pool → members → HTTP monitor → associate → VIP → requests through the VIP and how they were spread → ' +
    'one backend fails its health check and the monitor takes it out → it heals and comes back → the lbaas commands, ' +
    'ready to paste → cleanup. Everything stays on this host (198.18.0.0/15, no route out). ' +
    'It removes only what it created, also when a step fails or on Ctrl-C; --keep leaves it all up.'
  static examples = [
    '<%= config.bin %> demo',
    '<%= config.bin %> demo --keep',
    '<%= config.bin %> demo --tls',
    '<%= config.bin %> demo --ha',
    '<%= config.bin %> demo --subnet demo2 --cidr 198.18.2.0/24 --requests 30',
  ]
  static flags = {
    subnet: Flags.string({description: `lab subnet to run on; created (and removed) unless it exists unused [default: ${DEMO_DEFAULTS.subnet}]`}),
    cidr: Flags.string({description: `network of a new lab subnet [default: ${DEMO_DEFAULTS.cidr}]`}),
    backends: Flags.string({description: `backend hosts, 2–10 [default: ${DEMO_DEFAULTS.backends}]`}),
    requests: Flags.string({description: `requests per burst through the VIP, 1–1000 [default: ${DEMO_DEFAULTS.requests}]`}),
    keep: Flags.boolean({description: 'leave the lab, pool, monitor and VIP up, and print how to remove them'}),
    tls: Flags.boolean({description: 'then TLS: a lab CA, a certificate, an HTTPS VIP, a request verified against the CA, a rotation without a reload'}),
    ha: Flags.boolean({
      description:
        'instead, active/standby (SPEC §11) on this host: a private gearmand, two agents, an HA pool, traffic, the MASTER\'s HAProxy killed, ' +
        'the VIP answering from the other peer, the first peer back as BACKUP; always cleans up',
    }),
  }

  async run(): Promise<DemoReport | HaDemoReport> {
    const {flags} = await this.parseCommand(Demo)
    assertDemoPreconditions()
    const color = this.output.color
    const reporter = this.structuredOutput ? silentDemoReporter : demoReporter({color})
    const interrupt = twoStageInterrupt('the demo')
    try {
      if (flags.ha) {
        const cli = [process.execPath, join(this.config.root, 'bin', 'run.js')]
        const report = await runHaDemo(await this.ctx, {...flags, cli, signal: interrupt.signal}, reporter)
        if (this.structuredOutput) return this.show(report)
        process.stdout.write(haDemoEpilogue(report, color))
        return report
      }
      const report = await runDemo(
        await this.ctx,
        {subnet: flags.subnet, cidr: flags.cidr, backends: flags.backends, requests: flags.requests, keep: flags.keep, tls: flags.tls, signal: interrupt.signal},
        reporter,
      )
      if (this.structuredOutput) return this.show(report)
      process.stdout.write(demoEpilogue(report, color))
      return report
    } finally {
      interrupt.dispose()
    }
  }
}
