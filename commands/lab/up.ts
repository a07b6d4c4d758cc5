import {Flags} from '@oclif/core'

import {LAB_DEFAULTS, labUp, type LabBackend} from '../../src/service/lab.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'
import {LAB_COLUMNS} from '../../src/ui/listings.js'

export default class LabUp extends LbaasCommand {
  static summary = 'Start throw-away backend hosts on a lab subnet (for demos and tests)'
  static description =
    'Creates a managed subnet (default lab, 198.18.0.0/24: the range reserved for network benchmarking) and N backend ' +
    'namespaces, each running a small HTTP server that answers with its own name and has /healthz. ' +
    'Nothing leaves the host: no uplink, no NAT, no route out. Running it again starts what is missing.'
  static examples = ['<%= config.bin %> lab up', '<%= config.bin %> lab up --backends 5 --subnet lab2 --cidr 198.18.1.0/24']
  static flags = {
    backends: Flags.string({description: `how many backend hosts, 1–50 [default: ${LAB_DEFAULTS.backends}]`}),
    subnet: Flags.string({description: `lab subnet name [default: ${LAB_DEFAULTS.subnet}]`}),
    cidr: Flags.string({description: `network of a new lab subnet [default: ${LAB_DEFAULTS.cidr}]`}),
    port: Flags.string({description: `port the backends listen on [default: ${LAB_DEFAULTS.port}]`}),
    tls: Flags.boolean({description: 'serve HTTPS with a throw-away self-signed certificate (for HTTPS pools and monitors)'}),
  }

  async run(): Promise<readonly LabBackend[]> {
    const {flags} = await this.parseCommand(LabUp)
    const backends = await labUp(await this.ctx, {
      backends: flags.backends,
      subnet: flags.subnet,
      cidr: flags.cidr,
      port: flags.port,
      tls: flags.tls,
    })
    return this.showList(backends, LAB_COLUMNS)
  }
}
