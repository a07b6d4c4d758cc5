import {Args, Flags} from '@oclif/core'
import {stringify} from 'yaml'

import {exportStack} from '../src/service/declarative.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class Export extends LbaasCommand {
  static summary = 'Print the state as an apply file (YAML; -f json for JSON)'
  static description =
    'Every field is written out, keys in a stable order, so `lbaas export --stack S | lbaas apply -f -` plans nothing. ' +
    'Without POOL, the pools of --stack (or every pool). Monitors need a name to be exported (`lbaas monitor update ID --name N`).'
  static strict = false
  static examples = [
    '<%= config.bin %> export --stack shop',
    '<%= config.bin %> export --stack shop web -f json',
    '<%= config.bin %> export --stack shop | <%= config.bin %> apply -f -',
  ]
  static args = {pool: Args.string({description: 'pool names or ids to export (several allowed)'})}
  static flags = {stack: Flags.string({description: 'stack label of the file; exports the pools of this stack when no POOL is given'})}

  async run(): Promise<Record<string, unknown>> {
    const {argv, flags} = await this.parseCommand(Export)
    const file = exportStack(await this.ctx, {stack: flags.stack, pools: argv as string[]})
    process.stdout.write(this.output.format === 'json' ? `${JSON.stringify(file, null, 2)}\n` : stringify(file, {lineWidth: 0}))
    return file
  }
}
