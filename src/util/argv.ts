const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/

/** argv as a shell-ready line (for traces and for printing commands an operator can repeat). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((arg) => (SAFE_WORD.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ')
}
