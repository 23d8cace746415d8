#!/usr/bin/env bash
# Failover with a synchronous standby (issue #6): does every submission statgov acknowledged survive
# kill -9 of the PostgreSQL primary and the promotion of its standby?
#
#   bench/pg_failover.sh [WRITES]        (default 200; run as root; needs build/statgov or STATGOV)
#
# Steps: deploy/pg_standby.sh starts a primary and a synchronous standby on loopback ports; the
# demo is loaded on the primary; `statgov serve` runs with the multi-host URL
# postgresql://...:P1,...:P2/statgov?target_session_attrs=read-write. A client logs in as the demo
# enterprise and saves its B204-1 draft WRITES times (I01 = 1..WRITES), each acknowledged (200)
# before the next; right after the last acknowledgement every process of the primary is killed
# with SIGKILL and the standby promoted. The same serve (not restarted) must then answer with
# I01 = WRITES (the last acknowledged value), and take WRITES more saves on the new primary.
# Prints one line per phase and "failover ok" or the failure; exits non-zero on failure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATGOV=${STATGOV:-$ROOT/build/statgov}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
WRITES=${1:-200}
[ -x "$STATGOV" ] || { echo "pg_failover: no statgov at $STATGOV" >&2; exit 1; }

. "$ROOT/bench/standby_pair.sh"
WORK=""
SERVE=""
cleanup() {
  if [ -n "$SERVE" ]; then
    # A serve whose COMMIT waits on a database that hangs can't finish its writes: give it 10 s.
    kill "$SERVE" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVE" 2>/dev/null || true
    wait "$SERVE" 2>/dev/null || true
  fi
  standby_down pg_failover
}
trap cleanup EXIT
trap 'exit 130' INT TERM

standby_up failover
URL="postgresql://postgres@127.0.0.1:$P1,127.0.0.1:$P2/statgov?target_session_attrs=read-write"
"$STATGOV" --db "$URL" --data "$ROOT/data" demo --units 30 >/dev/null
echo "primary :$P1, synchronous standby :$P2, demo loaded"
"$STATGOV" --db "$URL" --data "$ROOT/data" --log-level warn serve --listen 127.0.0.1:0 --web "" \
  --port-file "$WORK/port" >"$WORK/serve.log" 2>&1 &
SERVE=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")

kill_primary() {
  "$ROOT/deploy/pg_standby.sh" kill-primary "$WORK/pg"
  "$ROOT/deploy/pg_standby.sh" promote "$WORK/pg"
}

python3 - "$PORT" "$WRITES" "$WORK" <<'EOF' &
import json, os, sys, time, urllib.request, urllib.error
port, writes, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = f"http://127.0.0.1:{port}"
cookie, csrf = "", ""
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if cookie: req.add_header("Cookie", cookie)
    if csrf: req.add_header("X-CSRF-Token", csrf)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")
st, h, b = call("POST", "/api/v1/auth/login", {"login": "demo-qiye", "password": "Statgov@2026"})
assert st == 200, (st, b)
cookie = h["Set-Cookie"].split(";")[0]
csrf = b["csrf_token"]
st, h, me = call("GET", "/api/v1/me")
draft = f"/api/v1/submissions/{me['user']['unit_id']}/B204-1/2026M11"
def save(v):
    # Retried until acknowledged: a 503 is "not saved, try again" (connection lost, read-only).
    for _ in range(300):
        st, h, b = call("PUT", draft + "/draft", {"values": {"I01": v}})
        if st == 200: return
        if st != 503: sys.exit(f"save {v}: HTTP {st} {b}")
        time.sleep(0.1)
    sys.exit(f"save {v}: never acknowledged")
t0 = time.time()
for v in range(1, writes + 1): save(v)
print(f"{writes} saves acknowledged by the primary in {time.time() - t0:.2f} s", flush=True)
open(os.path.join(work, "kill-now"), "w").close()
while not os.path.exists(os.path.join(work, "promoted")): time.sleep(0.05)
t1 = time.time()
for _ in range(300):
    st, h, b = call("GET", draft)
    if st == 200: break
    time.sleep(0.1)
got = b.get("values", {}).get("I01") if st == 200 else None
print(f"after kill -9 and promote: first read in {time.time() - t1:.2f} s, I01 = {got} (acknowledged: {writes})", flush=True)
if got != writes: sys.exit("LOST: the last acknowledged save is not on the promoted standby")
t2 = time.time()
for v in range(writes + 1, 2 * writes + 1): save(v)
st, h, b = call("GET", draft)
print(f"{writes} more saves on the new primary in {time.time() - t2:.2f} s, I01 = {b['values']['I01']}", flush=True)
if b["values"]["I01"] != 2 * writes: sys.exit("the new primary does not hold the last save")
print("failover ok")
EOF
CLIENT=$!
while kill -0 "$CLIENT" 2>/dev/null && [ ! -e "$WORK/kill-now" ]; do sleep 0.05; done
if [ -e "$WORK/kill-now" ]; then
  kill_primary
  echo "primary killed (SIGKILL), standby promoted"
  touch "$WORK/promoted"
fi
rc=0
wait "$CLIENT" || rc=$?
[ $rc -eq 0 ] || { echo "serve log:"; tail -20 "$WORK/serve.log"; }
exit $rc
