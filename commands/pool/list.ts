import {LISTINGS} from '../../src/ui/listings.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class PoolList extends LbaasCommand {
  static summary = 'List pools'
  static examples = ['<%= config.bin %> pool list', '<%= config.bin %> pool list -f value -c id']

  async run(): Promise<readonly object[]> {
    await this.parseCommand(PoolList)
    const listing = LISTINGS.pool
    return this.showList(listing.rows(await this.ctx), listing.columns, listing.fields)
  }
}
