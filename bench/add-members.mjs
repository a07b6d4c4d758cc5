#!/usr/bin/env node
// Adds many members to one pool quickly (bench/big-pool.sh: a pool of 1,000 members), through
// the compiled service layer (the same validation and SQL as `lbaas member create`) with a
// context that touches nothing on the host. Refuses a pool with a VIP: its members would
// have to be deployed, which is what the CLI is for.
//
//   node bench/add-members.mjs STATE_FILE POOL COUNT FIRST_ADDRESS PORT [DIST_DIR]
//     POOL           pool id (no VIP)
//     COUNT          1–5000 members at FIRST_ADDRESS, FIRST_ADDRESS+1, … (IPv4), all on PORT
// Prints the seconds it took on stderr.
import {distLoader, openInertContext} from './inert-context.mjs'

const [stateFile, pool, countArg, firstAddress, portArg, distArg] = process.argv.slice(2)
const count = Number(countArg)
const port = Number(portArg)
const octets = (firstAddress ?? '').split('.').map(Number)
const valid =
  stateFile && pool && Number.isInteger(count) && count >= 1 && count <= 5000 && Number.isInteger(port) && port >= 1 && port <= 65535 &&
  octets.length === 4 && octets.every((octet) => Number.isInteger(octet) && octet >= 0 && octet <= 255)
if (!valid) {
  console.error('usage: node bench/add-members.mjs STATE_FILE POOL COUNT FIRST_ADDRESS PORT [DIST_DIR]')
  process.exit(2)
}
const load = distLoader(distArg)
const {createMember} = await load('src/service/members.js')
const {showPool} = await load('src/service/pools.js')

const started = performance.now()
const ctx = await openInertContext(load, stateFile)
if (showPool(ctx, pool).vip_id) {
  console.error(`pool ${pool} has a VIP: add its members with lbaas member create`)
  process.exit(1)
}
const first = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0
for (let index = 0; index < count; index++) {
  const n = first + index
  const address = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
  await createMember(ctx, pool, {address, protocol_port: port})
}
ctx.store.close()
console.error(`added ${count} members in ${((performance.now() - started) / 1000).toFixed(1)} s`)
