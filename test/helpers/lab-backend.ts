import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

let compiled: string | undefined

/**
 * The lab backend server as a runnable file. `npm run build` puts it in dist/; tests run
 * from the sources, so this transpiles src/lab/backend.ts (it imports only node built-ins)
 * into a temporary directory named after the source's hash: test processes share it, and a
 * changed source gets a new one. Written atomically, as test files run in parallel.
 */
export async function labBackendScript(): Promise<string> {
  if (compiled) return compiled
  const source = readFileSync(fileURLToPath(new URL('../../src/lab/backend.ts', import.meta.url)), 'utf8')
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16)
  const dir = join(tmpdir(), `lbaas-lab-backend-${hash}`)
  const target = join(dir, 'backend.mjs')
  if (!existsSync(target)) {
    const ts = (await import('typescript')).default
    const output = ts.transpileModule(source, {compilerOptions: {module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022}})
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const temporary = `${target}.${process.pid}.tmp`
    writeFileSync(temporary, output.outputText)
    renameSync(temporary, target)
  }
  compiled = target
  return compiled
}
