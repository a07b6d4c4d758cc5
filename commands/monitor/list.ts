import {LISTINGS} from '../../src/ui/listings.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorList extends LbaasCommand {
  static summary = 'List health monitors'
  static examples = ['<%= config.bin %> monitor list', '<%= config.bin %> monitor list -f value -c id']

  async run(): Promise<readonly object[]> {
    await this.parseCommand(MonitorList)
    const listing = LISTINGS.monitor
    return this.showList(listing.rows(await this.ctx), listing.columns, listing.fields)
  }
}
