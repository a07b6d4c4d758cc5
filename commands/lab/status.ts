import {Flags} from '@oclif/core'

import {labStatus, type LabBackend} from '../../src/service/lab.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'
import {LAB_COLUMNS} from '../../src/ui/listings.js'

export default class LabStatus extends LbaasCommand {
  static summary = 'List the lab backend hosts'
  static examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status -f value -c address']
  static flags = {subnet: Flags.string({description: 'only this lab subnet'})}

  async run(): Promise<readonly LabBackend[]> {
    const {flags} = await this.parseCommand(LabStatus)
    return this.showList(labStatus(await this.ctx, flags.subnet), LAB_COLUMNS)
  }
}
