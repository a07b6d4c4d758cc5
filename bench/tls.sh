#!/usr/bin/env bash
# TLS termination (issue 13, SPEC §9): a TERMINATED_HTTPS VIP beside the same kind of pool
# over plain HTTP, measured in the same run, from the root namespace.
#
#  1. A lab (2 backends) and two pools of 2 members each: "plain" (HTTP VIP on :80) and
#     "tls" (TERMINATED_HTTPS VIP on :443, an EC P-256 certificate from a private CA made
#     here with openssl, chain sent).
#  2. wrk, DURATION seconds each, THREADS threads × CONNS connections, for both VIPs:
#     keep-alive (requests/s) and `Connection: close` (one TCP connection per request: for
#     the TLS VIP each request is a full handshake, so this is handshakes/s).
#  3. h2load over HTTP/2 (ALPN h2) on the TLS VIP, H2_REQUESTS requests.
#  4. `lbaas cert update` REPS times while wrk runs `Connection: close` on the TLS VIP:
#     each command's wall time, wrk's failed requests, and the master's reload counter.
#  5. Memory (RSS / PSS / private, kB) of each pool's HAProxy, master + worker.
#
#   bench/tls.sh                              DURATION=10 THREADS=2 CONNS=20 REPS=5
#   LBAAS_BIN=./bin/run.js DURATION=5 bench/tls.sh
#
# Lab on CIDR (default 198.19.216.0/24). Everything is removed on exit; only processes this
# script started are signalled. Bounded: every load has a duration, every loop a count.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-10}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-20}"
REPS="${REPS:-5}"
H2_REQUESTS="${H2_REQUESTS:-20000}"
CIDR="${CIDR:-198.19.216.0/24}"
((DURATION >= 2 && DURATION <= 60 && THREADS >= 1 && THREADS <= 8 && CONNS >= 1 && CONNS <= 500 && REPS >= 1 && REPS <= 20)) ||
  die "DURATION 2–60, THREADS 1–8, CONNS 1–500, REPS 1–20"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/24$ ]] || die "CIDR must be a /24 inside 198.18.0.0/15"
[ "$(id -u)" = 0 ] || die "run as root (namespaces, veths, HAProxy)"
for tool in haproxy ip curl socat wrk h2load openssl; do command -v "$tool" >/dev/null || die "$tool is not installed (see scripts/setup.sh)"; done

BENCH_TMP="$(mktemp -d /tmp/lbtls.XXXXXX)"
export LBAAS_STATE="$BENCH_TMP/state.db" LBAAS_RUN_DIR="$BENCH_TMP/run"
on_exit "rm -rf '$BENCH_TMP'"
trap bench_run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
LBAAS_BIN="${LBAAS_BIN:-$BENCH_ROOT/bin/run.js}"
export LBAAS_BIN
require_free_cidr "$CIDR"
bench_lab btls
log "CLI: $LBAAS_BIN; load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

net="${CIDR%.0/24}"
plain_vip="$net.20" tls_vip="$net.21"

# --- certificates: private CA → leaf (EC P-256), made here ------------------------------
pki="$BENCH_TMP/pki"
mkdir -m 0700 "$pki"
ossl() { openssl "$@" >/dev/null 2>&1 || die "openssl $1 failed"; }
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/ca.key"
ossl req -x509 -new -key "$pki/ca.key" -subj "/CN=bench CA" -days 30 -addext basicConstraints=critical,CA:TRUE -out "$pki/ca.crt"
leaf() {
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$1.key"
  ossl req -new -key "$pki/$1.key" -subj "/CN=bench.example.test" -out "$pki/$1.csr"
  printf 'subjectAltName=DNS:bench.example.test,IP:%s\n' "$tls_vip" >"$pki/$1.ext"
  ossl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 60 -extfile "$pki/$1.ext" -out "$pki/$1.crt"
}
leaf leaf0

# --- deploy ---------------------------------------------------------------------------
log "lab $LAB on $CIDR, two pools"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 2 >/dev/null
lbaas cert create "bench-$tag" --cert "$pki/leaf0.crt" --key "$pki/leaf0.key" >/dev/null
declare -A pool=()
for kind in plain tls; do
  pool[$kind]="$(lbaas pool create --name "bench-$kind-$tag" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
  for b in 11 12; do lbaas member create "${pool[$kind]}" --address "$net.$b" --protocol-port 8000 >/dev/null; done
done
lbaas vip create "${pool[plain]}" --name "bench-plain-$tag" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$plain_vip" >/dev/null
lbaas vip create "${pool[tls]}" --name "bench-tls-$tag" --protocol TERMINATED_HTTPS --protocol-port 443 --subnet "$LAB" \
  --address "$tls_vip" --default-cert "bench-$tag" >/dev/null
wait_http "http://$plain_vip/" 500 >/dev/null || die "plain VIP does not answer"
curl -s --cacert "$pki/ca.crt" --max-time 2 -o /dev/null "https://$tls_vip/" || die "TLS VIP does not answer with a certificate the CA verifies"

# --- throughput -----------------------------------------------------------------------
url_of() { [ "$1" = plain ] && echo "http://$plain_vip/" || echo "https://$tls_vip/"; }
echo "| VIP | connections | requests/s | failed (socket + non-2xx) |"
echo "|---|---|---|---|"
for mode in keep-alive close; do
  for kind in plain tls; do
    out="$BENCH_TMP/wrk-$kind-$mode"
    args=(-t "$THREADS" -c "$CONNS" -d "${DURATION}s" --timeout 5s)
    [ "$mode" = close ] && args+=(-H "Connection: close")
    wrk "${args[@]}" "$(url_of "$kind")" >"$out" 2>&1 || die "wrk failed: $(tail -2 "$out")"
    read -r socket non2xx _ rps < <(wrk_failures "$out")
    label="$kind HTTP"; [ "$kind" = tls ] && label="TERMINATED_HTTPS"
    what="$mode"
    if [ "$mode" = close ]; then
      what="new connection per request"
      if [ "$kind" = tls ]; then what+=" (= TLS handshakes/s)"; fi
    fi
    echo "| $label | $what | $rps | $((socket + non2xx)) |"
  done
done
h2="$BENCH_TMP/h2load"
h2load -n "$H2_REQUESTS" -c "$CONNS" -m 10 -t "$THREADS" "https://$tls_vip/" >"$h2" 2>&1 || die "h2load failed: $(tail -3 "$h2")"
echo "| TERMINATED_HTTPS | HTTP/2 (h2load -m 10, ALPN $(awk '/Application protocol:/ {print $3}' "$h2")) | $(awk '/^finished in/ {gsub(/,/, ""); print $4}' "$h2") | $(awk '/^requests:/ {print $10 + $12 + $14}' "$h2") |"

# --- cert update under load -------------------------------------------------------------
reloads_before="$(master_reloads "${pool[tls]}")"
load_s=$((REPS * 6 + 4))
wrk -t 1 -c 10 -d "${load_s}s" --timeout 5s -H "Connection: close" "https://$tls_vip/" >"$BENCH_TMP/wrk-rotate" 2>&1 &
wrk_pid=$!
on_exit "kill $wrk_pid"
sleep 2
: >"$BENCH_TMP/rotate-ms"
for ((i = 1; i <= REPS; i++)); do
  leaf "leaf$i"
  t0="$(now_us)"
  lbaas cert update "bench-$tag" --cert "$pki/leaf$i.crt" --key "$pki/leaf$i.key" >/dev/null || die "cert update failed"
  echo $((($(now_us) - t0) / 1000)) >>"$BENCH_TMP/rotate-ms"
  served="$(openssl s_client -connect "$tls_vip:443" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)"
  [ "$served" = "$(openssl x509 -in "$pki/leaf$i.crt" -noout -fingerprint -sha256 | cut -d= -f2)" ] || die "rotation $i: HAProxy still serves the old certificate"
  sleep 4
done
wait "$wrk_pid" || true
reloads_after="$(master_reloads "${pool[tls]}")"
read -r socket non2xx requests rps < <(wrk_failures "$BENCH_TMP/wrk-rotate")
read -r med p25 p75 min max n < <(stats <"$BENCH_TMP/rotate-ms")
echo
echo "cert update × $n under load: wall median $med ms (p25 $p25, p75 $p75, min $min, max $max);" \
  "load: $requests requests (new TLS connection each, $rps/s), failed $((socket + non2xx)); reloads $reloads_before → $reloads_after"

# --- memory -----------------------------------------------------------------------------
echo
echo "| pool | master RSS / PSS / private (MB) | worker RSS / PSS / private (MB) |"
echo "|---|---|---|"
for kind in plain tls; do
  mapfile -t pids < <(pool_haproxy_pids "${pool[$kind]}")
  ((${#pids[@]} >= 2)) || die "pool ${pool[$kind]}: no master and worker"
  row="| $kind |"
  for pid in "${pids[0]}" "${pids[1]}"; do
    read -r rss pss priv < <(mem_of "$pid")
    row+=" $(awk -v a="$rss" -v b="$pss" -v c="$priv" 'BEGIN {printf "%.1f / %.1f / %.1f", a / 1024, b / 1024, c / 1024}') |"
  done
  echo "$row"
done
