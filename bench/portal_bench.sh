#!/usr/bin/env bash
# Requests per second of the public portal for a cached dataset (JSON-stat of the demo's county
# series), beside nginx serving the same bytes as a static file, with wrk on loopback, interleaved
# in one run (issue 5). Needs: build/statgov, web/dist-portal not needed; apt: wrk nginx-light.
#   bench/portal_bench.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
SECS=${2:-8}
for c in wrk nginx curl; do command -v $c >/dev/null || { echo "portal_bench: $c is needed (apt-get install wrk nginx-light curl)" >&2; exit 2; }; done
W=$(mktemp -d)
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
  [ -f "$W/nginx.pid" ] && nginx -c "$W/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
./build/statgov release keygen --out "$W/keys" >/dev/null
./build/statgov --db "$W/d.db" demo --units 400 --release-key "$W/keys/release.key" --export-dir "$W/inbox" >/dev/null
./build/statgov portal --inbox "$W/inbox" --data "$W/data" --release-pub "$W/keys/release.pub" \
  --listen 127.0.0.1:0 --port-file "$W/port" --rate-limit 0 >"$W/portal.log" 2>&1 &
PID=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
PORT=$(cat "$W/port")
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" | grep -q '"packages": *[1-9]' && break; sleep 0.2; done
URL="http://127.0.0.1:$PORT/api/v1/datasets/B204_1_COUNTY_MONTHLY/data?format=jsonstat"
mkdir -p "$W/www"
curl -fsS "$URL" -o "$W/www/ds.json"
NPORT=$((20000 + RANDOM % 20000))
cat >"$W/nginx.conf" <<NGX
worker_processes 2;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$NPORT; root $W/www; default_type application/json; } }
NGX
nginx -c "$W/nginx.conf"
echo "response: $(stat -c %s "$W/www/ds.json") bytes; wrk -t2 -c64 -d${SECS}s, $ROUNDS rounds, interleaved"
for r in $(seq "$ROUNDS"); do
  p=$(wrk -t2 -c64 -d"${SECS}s" "$URL" | awk '/Requests\/sec/ {print $2}')
  n=$(wrk -t2 -c64 -d"${SECS}s" "http://127.0.0.1:$NPORT/ds.json" | awk '/Requests\/sec/ {print $2}')
  echo "round $r: portal $p req/s, nginx static $n req/s, portal/nginx $(awk -v a="$p" -v b="$n" 'BEGIN{printf "%.2f\n", a/b}')"
done
