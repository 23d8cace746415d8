#!/usr/bin/env bash
# Try the multi-process layout on one machine (deploy/multi-process.md): a throwaway PostgreSQL
# 15 (tools/pg_fixture.sh), a demo database on it, two `statgov serve` processes on loopback ports
# and nginx (deploy/nginx-statgov.conf) in front of them on a loopback port, all in a temporary
# folder that is removed again on exit.
#
#   deploy/run-two.sh           start everything, print the URL; Ctrl-C stops everything
#   deploy/run-two.sh --check   start everything, check it (below), stop; exit status says
#
# The check: requests through nginx reach both processes (nginx's access log names the upstream
# of each), a submission made through process A directly shows at once in process B's summary
# and monitoring progress, and reading it through nginx agrees.
#
# Environment: STATGOV_BIN (default build-dev/statgov, else build/statgov), UNITS (demo size,
# default 200), NGINX (default nginx). Run as root on Debian 12 (pg_fixture needs runuser).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-}

if [ -z "${STATGOV_TEST_PG:-}" ]; then
  exec "$ROOT/tools/pg_fixture.sh" "$0" "$@"
fi

BIN=${STATGOV_BIN:-}
if [ -z "$BIN" ]; then
  for b in "$ROOT/build-dev/statgov" "$ROOT/build/statgov"; do [ -x "$b" ] && { BIN=$b; break; }; done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "run-two: no statgov binary (build it, or set STATGOV_BIN)" >&2; exit 1; }
NGINX=${NGINX:-nginx}
command -v "$NGINX" >/dev/null || { echo "run-two: nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /tmp/statgov-two.XXXXXX)
chmod 755 "$WORK"  # nginx workers (nobody) read the placeholder page from it
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "run-two: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A database with collation C (docs/postgres.md) on the throwaway server, and a demo in it.
psql -q "$STATGOV_TEST_PG" -c "CREATE DATABASE statgov TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
DB="${STATGOV_TEST_PG%/*}/statgov"
"$BIN" --db "$DB" --data "$ROOT/data" demo --units "${UNITS:-200}" >"$WORK/demo.log" 2>&1 ||
  { cat "$WORK/demo.log" >&2; exit 1; }

# Two serve processes. Behind nginx every request comes from 127.0.0.1, so serve's per-address
# limiter is off and nginx limits per client instead (see nginx-statgov.conf).
PORT_A=$(free_port)
PORT_B=$(free_port)
for name in a b; do
  port=$PORT_A; [ $name = b ] && port=$PORT_B
  "$BIN" --db "$DB" --data "$ROOT/data" serve --listen "127.0.0.1:$port" --web "" --rate-limit 0 \
    >"$WORK/serve-$name.log" 2>&1 &
  PIDS+=($!)
done

# nginx with a private prefix, on its own port, the upstream ports and the web client replaced.
PORT_N=$(free_port)
P="$WORK/nginx"
mkdir -p "$P/logs" "$P/tmp"
cp /etc/nginx/mime.types "$P/mime.types"
WEB="$ROOT/web/dist"
if [ ! -f "$WEB/index.html" ]; then
  echo "run-two: no web client at $WEB (npm run build in web/); serving a placeholder page" >&2
  WEB="$WORK/web"
  mkdir -p "$WEB"
  echo '<!doctype html><title>statgov</title><p>statgov API behind nginx: /api/v1/...' >"$WEB/index.html"
fi
sed -e "s#127.0.0.1:8081#127.0.0.1:$PORT_A#; s#127.0.0.1:8082#127.0.0.1:$PORT_B#; s#listen 127.0.0.1:8080;#listen 127.0.0.1:$PORT_N;#" \
    -e "s#root /opt/statgov/web/dist;#root $WEB;#" "$ROOT/deploy/nginx-statgov.conf" >"$P/nginx.conf"
if [ "$(id -u)" = 0 ]; then chown -R nobody "$P/tmp"; fi
"$NGINX" -t -q -p "$P" -c "$P/nginx.conf" -g 'daemon off;'
"$NGINX" -p "$P" -c "$P/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

for port in "$PORT_A" "$PORT_B" "$PORT_N"; do
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { tail "$WORK"/serve-*.log "$P/logs/error.log" >&2; exit 1; }
done

echo "statgov behind nginx: http://127.0.0.1:$PORT_N/  (processes on $PORT_A and $PORT_B, database $DB)"
echo "demo accounts: demo-shi, demo-qiye, ... password Statgov@2026"

if [ "$MODE" != --check ]; then
  echo "run-two: Ctrl-C stops everything (logs in $WORK)" >&2
  wait "${PIDS[0]}"
  exit 0
fi

python3 - "$PORT_A" "$PORT_B" "$PORT_N" "$P/logs/access.log" <<'EOF'
import http.cookiejar, json, sys, time, urllib.request, urllib.error, datetime

port_a, port_b, port_n, access_log = sys.argv[1:5]

class Session:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""
    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf})
        try:
            with self.opener.open(req) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
    def login(self, who):
        st, b = self.call("POST", "/api/v1/auth/login", {"login": who, "password": "Statgov@2026"})
        assert st == 200, (st, b)
        self.csrf = b["csrf_token"]

failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: failures.append(what)

# 1. Requests through nginx reach both processes.
n = Session(port_n)
n.login("demo-shi")
for _ in range(20):
    st, _ = n.call("GET", "/api/v1/me")
    assert st == 200
ups = set()
for line in open(access_log):
    if "/api/v1/me" in line and "upstream=" in line:
        ups.add(line.split("upstream=")[1].split()[0])
check(ups == {f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"}, f"nginx spread 20 requests over both processes: {sorted(ups)}")

# 2. A submission through A shows in B (summary and progress) and through nginx.
now = datetime.datetime.utcnow() + datetime.timedelta(hours=8)
period = f"{now.year}M{now.month:02d}"
summary = f"/api/v1/summary?form=B204-1&period={period}&by=city"
progress = f"/api/v1/monitor/progress?form=B204-1&period={period}"
b = Session(port_b)
b.login("demo-shi")
def figures(s):
    st1, sm = s.call("GET", summary)
    st2, pr = s.call("GET", progress)
    assert st1 == 200 and st2 == 200, (st1, sm, st2, pr)
    i01 = sm["total"]["values"].get("I01") or 0.0
    return sm["total"]["units"], round(i01, 1), pr["total"]["submitted"]
before = figures(b)
a = Session(port_a)
a.login("demo-qiye")
st, me = a.call("GET", "/api/v1/me")
unit = me["user"]["unit_id"]
base = f"/api/v1/submissions/{unit}/B204-1/{period}"
st, sub = a.call("GET", base)
ly, prev = sub["ly"]["values"], sub["prev"]["values"]
out = round(ly["I01"] * 1.1, 1)
v = {"I01": out, "I03": round(out * 0.9, 1), "I04": 0.0, "I05": ly["I05"]}
for c in ("I01", "I03", "I04", "I05"):
    v[c + "_YTD"] = round(prev[c + "_YTD"] + v[c], 1)
body = {"values": v}
# The live stream through nginx (whichever process it lands on), opened before the submit.
import threading
events = []
def follow():
    with n.opener.open(urllib.request.Request(n.base + "/api/v1/events"), timeout=10) as r:
        for raw in r:
            line = raw.decode()
            if line.startswith("data: ") and json.loads(line[6:]).get("unit_id") == unit:
                events.append(time.monotonic())
                return
threading.Thread(target=follow, daemon=True).start()
time.sleep(0.5)
st, r = a.call("POST", base + "/submit", body)
if st == 422 and r["error"]["code"] == "EXPLANATION_REQUIRED":
    body["explanations"] = {d["rule"]: "run-two check" for d in r["error"]["details"]}
    st, r = a.call("POST", base + "/submit", body)
check(st == 200, f"submitted through A (process on {port_a}): {st}")
t0 = time.monotonic()
want = (before[0] + 1, round(before[1] + out, 1), before[2] + 1)
got = figures(b)
while got != want and time.monotonic() - t0 < 1.0:
    time.sleep(0.05)
    got = figures(b)
check(got == want, f"B (process on {port_b}) shows it within 1 s: units, I01, submitted {before} -> {got}, wanted {want}")
check(figures(n) == want, "nginx answers the same")
while not events and time.monotonic() - t0 < 1.0:
    time.sleep(0.05)
check(bool(events) and events[0] - t0 < 1.0, "the event stream through nginx (unbuffered) delivered it within 1 s")
sys.exit(1 if failures else 0)
EOF
