#!/usr/bin/env bash
# The minimum host work of deploying one pool, by hand: what `lbaas vip create` must at
# least do on the host, as an operator would type it. bench/deploy.sh times it next to the
# CLI (the baseline of the "≤ 1.5× a shell script" target); it is not meant to be run alone.
#
#   bench/deploy-by-hand.sh plain|batch NAMESPACE HOST_VETH BRIDGE ADDRESS/PREFIX GATEWAY CONFIG DIR
#
#   plain  one `ip` command per step (netns, lo, veth into the bridge, address, link, route)
#   batch  the same steps as two `ip -batch` runs (root namespace, then inside), as lbaas does
# then `haproxy -c` on CONFIG inside the namespace and HAProxy started master-worker
# (`-W -D -S DIR/master.sock -p DIR/haproxy.pid`), as lbaas starts it. No gratuitous ARP,
# no checks, no state file, no waiting: the caller polls the VIP for the first 200.
set -euo pipefail
mode="$1" ns="$2" veth="$3" bridge="$4" cidr="$5" gateway="$6" config="$7" dir="$8"

if [ "$mode" = plain ]; then
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$veth" up master "$bridge" type veth peer name vip0 netns "$ns"
  ip -n "$ns" addr add "$cidr" dev vip0
  ip -n "$ns" link set vip0 up
  ip -n "$ns" route add default via "$gateway" dev vip0
else
  printf '%s\n' "netns add $ns" "link add $veth up master $bridge type veth peer name vip0 netns $ns" | ip -batch -
  printf '%s\n' "link set lo up" "addr add $cidr dev vip0" "link set vip0 up" "route add default via $gateway dev vip0" |
    ip -n "$ns" -batch -
fi
# The configuration loads server state from a file, which must exist (lbaas writes it empty).
[ -f "$dir/server-state" ] || echo 1 >"$dir/server-state"
ip netns exec "$ns" haproxy -c -q -f "$config"
ip netns exec "$ns" haproxy -W -D -S "$dir/master.sock,mode,600" -p "$dir/haproxy.pid" -f "$config"
