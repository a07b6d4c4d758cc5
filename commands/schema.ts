import {applyFileSchema} from '../src/service/declarative.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class Schema extends LbaasCommand {
  static summary = 'Print the JSON Schema (draft 2020-12) of apply files, for editors and CI'
  static description =
    'Save it (`lbaas schema > lbaas-apply.schema.json`) and point editors at it, e.g. with the YAML language server: ' +
    '`# yaml-language-server: $schema=lbaas-apply.schema.json` as the first line of an apply file.'
  static examples = [
    '<%= config.bin %> schema',
  ]

  async run(): Promise<object> {
    await this.parseCommand(Schema)
    const schema = applyFileSchema()
    process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`)
    return schema
  }
}
