import {LISTINGS} from '../../src/ui/listings.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class SubnetList extends LbaasCommand {
  static summary = 'List subnets'
  static examples = ['<%= config.bin %> subnet list', '<%= config.bin %> subnet list -f value -c name']

  async run(): Promise<readonly object[]> {
    await this.parseCommand(SubnetList)
    const listing = LISTINGS.subnet
    return this.showList(listing.rows(await this.ctx), listing.columns, listing.fields)
  }
}
