#!/usr/bin/env node
// Fills a state file with many pools (and members) quickly, for benchmarks of commands that
// only read the state file (`pool list` on 1,000 pools). It goes through the compiled
// service layer (the same validation and SQL as the CLI) but with an executor that touches
// nothing on the host: no bridge, no namespace, no HAProxy. The pools have no VIP, so the
// state is exactly what `pool create` + `member create` would leave.
//
//   node bench/seed-state.mjs STATE_FILE POOLS [MEMBERS_PER_POOL] [DIST_DIR]
//     STATE_FILE        a new SQLite file (created 0600)
//     POOLS             how many pools, 1–100000
//     MEMBERS_PER_POOL  default 2, 0–1000 (addresses 198.19.x.y, ports 8000+; nothing listens)
//     DIST_DIR          compiled tree to import (default: ../dist beside this script)
// Prints the seconds it took on stderr.
import {distLoader, openInertContext} from './inert-context.mjs'

const [stateFile, poolsArg, membersArg = '2', distArg] = process.argv.slice(2)
const pools = Number(poolsArg)
const membersPerPool = Number(membersArg)
if (!stateFile || !Number.isInteger(pools) || pools < 1 || pools > 100_000 || !Number.isInteger(membersPerPool) || membersPerPool < 0 || membersPerPool > 1000) {
  console.error('usage: node bench/seed-state.mjs STATE_FILE POOLS [MEMBERS_PER_POOL] [DIST_DIR]')
  process.exit(2)
}
const load = distLoader(distArg)
const {createSubnet} = await load('src/service/subnets.js')
const {createPool} = await load('src/service/pools.js')
const {createMember} = await load('src/service/members.js')

const started = performance.now()
const ctx = await openInertContext(load, stateFile)
// An unmanaged subnet would need an existing bridge; the seeding executor checks nothing.
await createSubnet(ctx, {name: 'seed', cidr: '198.19.0.0/16'})
const methods = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']
for (let index = 0; index < pools; index++) {
  const pool = await createPool(ctx, {
    name: `seed-pool-${index}`,
    description: `seeded pool ${index}`,
    subnet: 'seed',
    protocol: 'HTTP',
    lb_method: methods[index % methods.length],
  })
  for (let member = 0; member < membersPerPool; member++) {
    const n = index * membersPerPool + member
    // Unique per pool: 250 hosts per /24, 256 /24s, then the next port.
    const address = `198.19.${Math.floor(n / 250) % 256}.${(n % 250) + 1}`
    await createMember(ctx, pool.id, {address, protocol_port: 8000 + Math.floor(n / 64_000)})
  }
}
ctx.store.close()
console.error(`seeded ${pools} pools × ${membersPerPool} members in ${((performance.now() - started) / 1000).toFixed(1)} s`)
