import ipaddr from 'ipaddr.js'

/** Address family of a parsed address or network. */
export type Family = 4 | 6

export interface Network {
  family: Family
  /** canonical network address, e.g. `198.18.0.0` or `2001:db8::` */
  address: string
  prefix: number
  /** canonical `address/prefix` */
  cidr: string
}

const FAMILY_BITS = {4: 32, 6: 128} as const

/**
 * Parses one IPv4 (strict dotted quad: no octal, hex or short forms) or IPv6 address
 * (no zone id) and returns it in canonical form (RFC 5952 for IPv6), or undefined.
 */
export function canonicalAddress(text: string): {address: string; family: Family} | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return undefined
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return {address: ipaddr.IPv4.parse(text).toString(), family: 4}
  }
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) {
    return {address: ipaddr.IPv6.parse(text).toRFC5952String(), family: 6}
  }
  return undefined
}

export function parseNetwork(text: string): Network | {error: string} {
  if (typeof text !== 'string' || !/^[0-9A-Fa-f.:]+\/\d{1,3}$/.test(text)) {
    return {error: 'expected an IPv4 or IPv6 network such as 198.18.0.0/24 or 2001:db8::/64'}
  }
  const [addressText, prefixText] = text.split('/')
  const parsed = canonicalAddress(addressText)
  if (!parsed) return {error: `${JSON.stringify(addressText)} is not an IP address`}
  const prefix = Number(prefixText)
  const bits = FAMILY_BITS[parsed.family]
  if (prefix > bits) return {error: `prefix /${prefix} is longer than ${bits} bits`}
  const networkValue = toBigInt(parsed.address) & maskOf(parsed.family, prefix)
  const network = fromBigInt(networkValue, parsed.family)
  if (network !== parsed.address) {
    return {error: `host bits are set in ${text}; did you mean ${network}/${prefix}?`}
  }
  return {family: parsed.family, address: network, prefix, cidr: `${network}/${prefix}`}
}

export function toBigInt(address: string): bigint {
  const bytes = ipaddr.parse(address).toByteArray()
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  return value
}

export function fromBigInt(value: bigint, family: Family): string {
  const length = family === 4 ? 4 : 16
  const bytes: number[] = []
  for (let i = 0; i < length; i++) {
    bytes.unshift(Number(value & 0xffn))
    value >>= 8n
  }
  const parsed = ipaddr.fromByteArray(bytes)
  return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString()
}

function maskOf(family: Family, prefix: number): bigint {
  const bits = BigInt(FAMILY_BITS[family])
  const hostBits = bits - BigInt(prefix)
  return ((1n << bits) - 1n) ^ ((1n << hostBits) - 1n)
}

export function networkContains(network: Network, address: string): boolean {
  const parsed = canonicalAddress(address)
  if (!parsed || parsed.family !== network.family) return false
  return (toBigInt(parsed.address) & maskOf(network.family, network.prefix)) === toBigInt(network.address)
}

/** The last address of an IPv4 network; IPv6 has no broadcast address. */
export function broadcastAddress(network: Network): string | undefined {
  if (network.family !== 4) return undefined
  const hostMask = (1n << BigInt(32 - network.prefix)) - 1n
  return fromBigInt(toBigInt(network.address) | hostMask, 4)
}

/** Addresses usable by hosts: not the network address, not the IPv4 broadcast. */
export function isUsableHost(network: Network, address: string): boolean {
  if (!networkContains(network, address)) return false
  const canonical = canonicalAddress(address)!.address
  return canonical !== network.address && canonical !== broadcastAddress(network)
}

/** First usable host address that `taken` does not hold, scanning at most `limit` addresses. */
export function firstFreeHost(network: Network, taken: ReadonlySet<string>, limit = 65_536): string | undefined {
  const start = toBigInt(network.address) + 1n
  const hostBits = BigInt(FAMILY_BITS[network.family] - network.prefix)
  const size = 1n << hostBits
  const end = toBigInt(network.address) + size - (network.family === 4 ? 1n : 0n)
  let scanned = 0
  for (let value = start; value < end && scanned < limit; value++, scanned++) {
    const candidate = fromBigInt(value, network.family)
    if (!taken.has(candidate)) return candidate
  }
  return undefined
}
