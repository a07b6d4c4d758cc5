import {Flags} from '@oclif/core'

import {applySourceDir, planFile, readApplySource, type PlanResult} from '../src/service/declarative.js'
import {BASE_FLAGS_WITHOUT_FORMAT, LbaasCommand} from '../src/ui/lbaas-command.js'
import {renderPlan} from '../src/ui/plan-view.js'

export default class Plan extends LbaasCommand {
  static summary = 'Show what `lbaas apply -f FILE` would change, changing nothing'
  static description =
    'Per object: create, update (each field old → new), delete (only with --prune), adopt (an unlabelled object of that name joins the stack), ' +
    'none; per pool, the host effect: deploy, reload, runtime (weights and admin states through the runtime API), replug, undeploy. ' +
    'With --detailed-exitcode the exit code is 0 for no changes and 6 for changes pending. See docs/apply.md.'
  static examples = [
    '<%= config.bin %> plan -f shop.yaml',
    '<%= config.bin %> plan -f shop.yaml --prune --detailed-exitcode',
    '<%= config.bin %> plan -f shop.yaml --json',
  ]
  static baseFlags = BASE_FLAGS_WITHOUT_FORMAT
  static flags = {
    file: Flags.string({char: 'f', required: true, description: 'apply file, YAML or JSON (- reads standard input)'}),
    prune: Flags.boolean({description: "also delete the stack's subnets, monitors and pools the file no longer lists"}),
    'detailed-exitcode': Flags.boolean({description: 'exit 0 when nothing would change, 6 when changes are pending'}),
  }

  async run(): Promise<PlanResult> {
    const {flags} = await this.parseCommand(Plan)
    const text = await readApplySource(flags.file)
    const result = planFile(await this.ctx, {text, baseDir: applySourceDir(flags.file), prune: flags.prune})
    if (this.output.format === 'json') await this.show({changed: result.changed, actions: result.actions, errors: result.errors})
    else process.stdout.write(renderPlan(result))
    if (flags['detailed-exitcode'] && result.changed) this.exit(6)
    return result
  }
}
