/** Questions more than one create command asks, with the flag's own validation. */
import {PERSISTENCE_TYPES} from '../domain/types.js'
import * as rules from '../domain/validation.js'
import type {Guide} from './guide.js'
import type {Question} from './prompts.js'

export const descriptionQuestion: Question = {
  kind: 'input',
  message: 'Description (optional)',
  optional: true,
  validate: (value) => rules.freeText('description', value),
}

/** The usual port of a VIP protocol; TCP has none. */
export const DEFAULT_PORTS: Record<string, string | undefined> = {HTTP: '80', HTTPS: '443', TERMINATED_HTTPS: '443'}

/**
 * none, SOURCE_IP, HTTP_COOKIE or APP_COOKIE:NAME (asking for the application's cookie).
 * Cookies are offered for HTTP only: HTTPS is TLS pass-through and TCP has no cookies.
 */
export async function askPersistence(guide: Guide, given: string | undefined, protocol: string): Promise<string | undefined> {
  const types = protocol.toUpperCase() === 'HTTP' ? PERSISTENCE_TYPES : PERSISTENCE_TYPES.filter((type) => type === 'SOURCE_IP')
  const type = await guide.optional(given, {kind: 'select', message: 'Session persistence', choices: ['none', ...types], default: 'none'})
  if (type !== 'APP_COOKIE' || given !== undefined) return type
  const cookie = await guide.required('cookie-name', undefined, {kind: 'input', message: "Name of the application's cookie", validate: rules.cookieName})
  return `APP_COOKIE:${cookie}`
}
