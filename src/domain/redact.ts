/**
 * What the audit trail (SPEC §10) may keep of a command line: every value of a flag whose
 * name says it carries a secret (or a file of one), and anything shaped like PEM, becomes
 * `<redacted>`. Pure.
 */

export const REDACTED = '<redacted>'

const SECRET_FLAG = /^--?(?:[\w-]*(?:key|passphrase|password|passwd|secret|token|pkcs12|credential)[\w-]*)$/i
const PEM = /-----BEGIN|PRIVATE KEY/

export function looksSecret(text: string): boolean {
  return PEM.test(text)
}

export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index]
    if (word === '--') {
      out.push(...argv.slice(index).map((rest) => (looksSecret(rest) ? REDACTED : rest)))
      break
    }
    const equals = word.indexOf('=')
    const flag = word.startsWith('-') ? (equals > 0 ? word.slice(0, equals) : word) : undefined
    if (flag !== undefined && SECRET_FLAG.test(flag)) {
      if (equals > 0) out.push(`${flag}=${REDACTED}`)
      else {
        out.push(word)
        // The next word is the value unless it is another flag (a boolean like --keep-going).
        if (index + 1 < argv.length && !argv[index + 1].startsWith('-')) {
          out.push(REDACTED)
          index++
        }
      }
    } else out.push(looksSecret(word) ? REDACTED : word)
  }
  return out
}

/** An error message with anything PEM-shaped removed. */
export function redactText(text: string): string {
  return looksSecret(text) ? text.replace(/-----BEGIN[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, REDACTED).replace(/[^\n]*PRIVATE KEY[^\n]*/g, REDACTED) : text
}
