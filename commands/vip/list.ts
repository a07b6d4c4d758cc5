import {LISTINGS} from '../../src/ui/listings.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class VipList extends LbaasCommand {
  static summary = 'List VIPs'
  static examples = ['<%= config.bin %> vip list', '<%= config.bin %> vip list -f value -c address']

  async run(): Promise<readonly object[]> {
    await this.parseCommand(VipList)
    const listing = LISTINGS.vip
    return this.showList(listing.rows(await this.ctx), listing.columns, listing.fields)
  }
}
