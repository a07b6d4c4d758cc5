import {APPLY_FILE_SCHEMA} from '../src/declarative/schema.js'
import {LbaasCommand} from '../src/ui/lbaas-command.js'

export default class Schema extends LbaasCommand {
  static summary = 'Print the JSON Schema (draft 2020-12) of apply files, for editors and CI'
  static examples = [
    '<%= config.bin %> schema > lbaas-apply.schema.json',
    {description: 'In a YAML file, for editors with the YAML language server', command: '# yaml-language-server: $schema=lbaas-apply.schema.json'},
  ]

  async run(): Promise<object> {
    await this.parseCommand(Schema)
    process.stdout.write(`${JSON.stringify(APPLY_FILE_SCHEMA, null, 2)}\n`)
    return APPLY_FILE_SCHEMA
  }
}
