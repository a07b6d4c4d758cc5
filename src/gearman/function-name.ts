/**
 * The one check of a Gearman function name as lbaas uses it (serve-worker's --function, an
 * agent's name). A leaf with no imports: `service/ha.ts` is loaded by every command, and
 * settings.ts would bring the socket and TLS modules with it.
 */

/** A Gearman function name as lbaas uses it (an agent's name): 1-255 characters, no spaces or NUL. */
export function isFunctionName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 255 && !/[\s\0]/.test(name)
}
