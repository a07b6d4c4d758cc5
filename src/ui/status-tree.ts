/** The `lbaas status` tree as text: VIP → pool → members and monitors, colour only on a TTY. */
import type {PoolStatusTree} from '../service/status.js'

const GOOD = new Set(['ACTIVE', 'ONLINE'])
const BAD = new Set(['ERROR', 'INACTIVE', 'OFFLINE', 'DEGRADED'])

function painter(color: boolean) {
  return (status: string) => {
    if (!color) return status
    if (GOOD.has(status)) return `\u001B[32m${status}\u001B[0m`
    if (BAD.has(status)) return `\u001B[31m${status}\u001B[0m`
    return `\u001B[33m${status}\u001B[0m`
  }
}

export function renderStatusTrees(trees: readonly PoolStatusTree[], color: boolean): string {
  if (trees.length === 0) return 'no pools yet; start with `lbaas pool create`\n'
  const paint = painter(color)
  const lines: string[] = []
  for (const tree of trees) {
    const {pool, vip} = tree
    const down = (up: boolean) => (up ? '' : ' admin-down')
    let indent = ''
    if (vip) {
      lines.push(`vip ${vip.name} ${vip.address}:${vip.protocol_port}  ${paint(vip.status)}${down(vip.admin_state_up)}`)
      indent = '   '
      lines.push(`└─ pool ${pool.name} (${pool.protocol})  ${paint(pool.status)} ${paint(pool.operating_status)}${down(pool.admin_state_up)}`)
    } else {
      lines.push(`pool ${pool.name} (${pool.protocol})  ${paint(pool.status)} ${paint(pool.operating_status)}${down(pool.admin_state_up)}  (no VIP)`)
    }
    if (pool.status_description) lines.push(`${indent}   ${pool.status_description}`)
    const children = [
      ...tree.members.map(
        (member) =>
          `member ${member.address}:${member.protocol_port} weight ${member.weight}  ${paint(member.status)} ${paint(member.operating_status)}${down(member.admin_state_up)}  ${member.id}`,
      ),
      ...tree.monitors.map(
        (monitor) => `monitor ${monitor.type} ${monitor.id}  ${paint(monitor.status)}${monitor.drives_haproxy ? '  (drives HAProxy)' : ''}`,
      ),
    ]
    children.forEach((child, index) => lines.push(`${indent}${index === children.length - 1 ? '└─' : '├─'} ${child}`))
    lines.push('')
  }
  return `${lines.join('\n')}`
}
