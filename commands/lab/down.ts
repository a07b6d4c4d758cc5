import {Flags} from '@oclif/core'

import {LAB_DEFAULTS, labDown, type LabBackend} from '../../src/service/lab.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'
import {LAB_COLUMNS} from '../../src/ui/listings.js'

export default class LabDown extends LbaasCommand {
  static summary = 'Stop the lab backend hosts and delete the lab subnet'
  static description = 'Refused while pools or VIPs still use the lab subnet.'
  static examples = ['<%= config.bin %> lab down --yes', '<%= config.bin %> lab down --subnet lab2 --yes']
  static flags = {
    subnet: Flags.string({description: `lab subnet name [default: ${LAB_DEFAULTS.subnet}]`}),
    yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'}),
  }

  async run(): Promise<readonly LabBackend[]> {
    const {flags} = await this.parseCommand(LabDown)
    await this.confirmDestructive(`Stop the lab on subnet ${flags.subnet ?? LAB_DEFAULTS.subnet} and delete it?`, flags.yes)
    return this.showList(await labDown(await this.ctx, flags.subnet), LAB_COLUMNS)
  }
}
