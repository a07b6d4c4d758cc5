#!/usr/bin/env node
// Diagnostic for issue #10's "pool without a serving HAProxy" (not a benchmark): watches
// every HAProxy process (argv with -W) on the host every 100 ms and, when one dies, appends
// to /tmp/lbt-deaths.log how (its zombie's exit code from /proc/PID/stat field 52, since PID 1
// reaps late here), its parent, its run-dir entry and whether the identity record named it.
// Run it beside the suite: `node bench/experiments/haproxy-deaths.mjs & npx vitest run`.
// Read-only: it never signals anything. Launchers (`haproxy -D` parents) exit at once and
// workers retire on every reload; the masters (ppid 1) are the interesting lines.
import {readdirSync, readFileSync, readlinkSync, appendFileSync, existsSync} from 'node:fs'
const out = '/tmp/lbt-deaths.log'
const known = new Map()
const stat = (pid) => { try { const t = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = t.slice(t.lastIndexOf(')') + 2).split(' '); return {state: f[0], ppid: +f[1], start: +f[19], exit: +f[49]} } catch { return undefined } }
function scan() {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || known.has(+e)) continue
    let exe; try { exe = readlinkSync(`/proc/${e}/exe`) } catch { continue }
    if (!exe.endsWith('/haproxy')) continue
    let argv; try { argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0') } catch { continue }
    if (!argv.includes('-W')) continue
    const s = stat(+e); if (!s) continue
    const cfg = argv[argv.indexOf('-f') + 1]
    known.set(+e, {start: s.start, ppid: s.ppid, cfg, seen: Date.now()})
  }
  for (const [pid, info] of known) {
    const s = stat(pid)
    if (s && s.start === info.start && s.state !== 'Z') continue
    known.delete(pid)
    const dir = info.cfg.replace(/\/haproxy\.cfg$/, '')
    let identity = ''; try { identity = readFileSync(`${dir}/haproxy.identity`, 'utf8') } catch {}
    const how = s && s.start === info.start ? `zombie exit_code=${s.exit} (signal ${s.exit & 0x7f}, status ${s.exit >> 8})` : 'gone (reaped)'
    const wasWorker = info.ppid !== 1 && known.has(info.ppid)
    appendFileSync(out, `${new Date().toISOString()} pid ${pid} ${wasWorker ? 'worker' : 'master?'} ppid ${info.ppid} ${how} dir ${dir} exists=${existsSync(dir)} identity-names-it=${identity.includes(`"pid":${pid},`)}\n`)
  }
}
setInterval(scan, 100)
