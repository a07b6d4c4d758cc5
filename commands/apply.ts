import {Flags} from '@oclif/core'

import {applyFile, applySourceDir, convergenceFailure, defaultParallelism, readApplySource, type ChangeReport} from '../src/service/declarative.js'
import {BASE_FLAGS_WITHOUT_FORMAT, LbaasCommand} from '../src/ui/lbaas-command.js'
import {renderApplied} from '../src/ui/plan-view.js'

export default class Apply extends LbaasCommand {
  static summary = 'Make the state and the host match an apply file (YAML or JSON), idempotently'
  static description =
    'Validates the whole file first (every error with its path, exit 2, nothing changed), commits every row change in one ' +
    'transaction, then converges the affected pools in parallel: one haproxy -c and at most one reload per pool, the runtime API ' +
    'alone when only weights or admin states change. A pool that fails is ERROR with its reason; the others carry on (exit 1). ' +
    'Applying the same file again changes nothing. Deleting or replugging a deployed VIP asks first on a terminal. See docs/apply.md.'
  static examples = [
    '<%= config.bin %> apply -f shop.yaml',
    '<%= config.bin %> apply -f shop.yaml --prune --yes --json',
    '<%= config.bin %> apply -f shop.yaml --parallel 8',
  ]
  static baseFlags = BASE_FLAGS_WITHOUT_FORMAT
  static flags = {
    file: Flags.string({char: 'f', required: true, description: 'apply file, YAML or JSON (- reads standard input)'}),
    prune: Flags.boolean({description: "also delete the stack's subnets, monitors and pools the file no longer lists"}),
    parallel: Flags.integer({min: 1, max: 256, description: `pools converging at once [default: 2 × cores = ${defaultParallelism()}]`}),
    yes: Flags.boolean({char: 'y', description: 'do not ask before deleting or replugging a deployed VIP'}),
  }

  async run(): Promise<ChangeReport> {
    const {flags} = await this.parseCommand(Apply)
    const text = await readApplySource(flags.file)
    const report = await applyFile(await this.ctx, {
      text,
      baseDir: applySourceDir(flags.file),
      prune: flags.prune,
      parallel: flags.parallel,
      confirm: async (destructive) => {
        await this.confirmDestructive(`${destructive.join('\n')}\nApply these changes?`, flags.yes)
        return true
      },
    })
    if (this.output.format === 'json') await this.show(report)
    else process.stdout.write(renderApplied(report))
    const failure = convergenceFailure(report)
    if (failure) {
      // --json has printed the report with its errors; only the exit code is left to give.
      if (this.output.format === 'json') this.exit(failure.exit)
      throw failure
    }
    return report
  }
}
