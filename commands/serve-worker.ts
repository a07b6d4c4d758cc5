import {Flags} from '@oclif/core'

import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class ServeWorker extends LbaasCommand {
  static summary = 'Run a Gearman worker that speaks OpenStack Libra messages and takes pools from a controller'
  static description =
    'Registers FUNCTION (default: the host name, as Libra did) on every job server and answers each job with a JSON object: ' +
    "Libra's hpcs_action messages for this host's one Libra device, and lbaas_action messages for pools a controller " +
    'places here (lbaas pool create --agent). Runs until SIGTERM or SIGINT, then finishes running jobs and unregisters. ' +
    'One log line per job goes to stderr (and to --log-file). The device runs in its own namespace with ' +
    '--device-subnet/--device-address, otherwise in the host namespace bound to 0.0.0.0.'
  static examples = [
    '<%= config.bin %> serve-worker --server 127.0.0.1:4730',
    '<%= config.bin %> serve-worker --server gm1:4730 --server gm2:4730 --function lb-01 --concurrency 8',
    '<%= config.bin %> serve-worker --device-subnet lab --device-address 198.18.0.50 --diagnostics-target 198.18.0.1:80',
  ]
  static flags = {
    server: Flags.string({
      multiple: true,
      description: 'job server HOST:PORT (repeatable; default: LBAAS_GEARMAN_SERVERS, then 127.0.0.1:4730)',
    }),
    function: Flags.string({description: 'Gearman function to register (default: the host name)'}),
    concurrency: Flags.integer({min: 1, max: 256, default: 4, description: 'slow jobs (UPDATE, DEPLOY, ...) that may run at once'}),
    'tls-ca': Flags.string({env: 'LBAAS_GEARMAN_TLS_CA', description: "CA that signed the job servers' certificates (TLS needs all three)"}),
    'tls-cert': Flags.string({env: 'LBAAS_GEARMAN_TLS_CERT', description: 'client certificate for the job servers'}),
    'tls-key': Flags.string({env: 'LBAAS_GEARMAN_TLS_KEY', description: 'key of the client certificate'}),
    'device-subnet': Flags.string({description: 'run the Libra device in its own namespace on this subnet (name or id)'}),
    'device-address': Flags.string({description: 'address of the Libra device inside --device-subnet'}),
    'diagnostics-target': Flags.string({multiple: true, description: 'HOST:PORT that DIAGNOSTICS connects to (repeatable; default: the job servers)'}),
    'log-file': Flags.string({description: 'also append the log to this file'}),
    verbose: Flags.boolean({description: 'log deploy steps and protocol details too'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parseCommand(ServeWorker)
    const {serveWorker} = await import('../src/worker/runtime.js')
    await serveWorker({
      state: flags.state,
      runDir: flags['run-dir'],
      servers: flags.server,
      functionName: flags.function,
      concurrency: flags.concurrency,
      tls: {ca: flags['tls-ca'], cert: flags['tls-cert'], key: flags['tls-key']},
      deviceSubnet: flags['device-subnet'],
      deviceAddress: flags['device-address'],
      diagnosticsTargets: flags['diagnostics-target'],
      logFile: flags['log-file'],
      debug: flags.verbose,
    })
  }
}
