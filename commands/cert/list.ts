import {LISTINGS} from '../../src/ui/listings.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class CertList extends LbaasCommand {
  static summary = 'List certificates, soonest expiry first'
  static examples = ['<%= config.bin %> cert list', '<%= config.bin %> cert list -f value -c name -c days_left']

  async run(): Promise<readonly object[]> {
    await this.parseCommand(CertList)
    const ctx = await this.ctx
    const listing = LISTINGS.cert
    return this.showList(listing.rows(ctx), listing.columns, listing.fields)
  }
}
