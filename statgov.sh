#!/usr/bin/env bash
# The two README commands and their building blocks. Run from the repository root as root on
# Debian 12 (apt installs what is missing; nothing is downloaded at run time by the product).
#
#   ./statgov.sh demo    install what is missing, build, load the demo, serve on 127.0.0.1:8080
#   ./statgov.sh test    install what is missing, build, run every test
#   ./statgov.sh setup | build | serve | unit | pg | asan | e2e | fuzz   (the steps, one at a time)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

APT_PACKAGES=(g++ cmake make pkg-config libboost-dev libboost-system-dev libsqlite3-dev sqlite3
  libsodium-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libxlsxwriter-dev libzip-dev
  libpugixml-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev libpq-dev libpqxx-dev postgresql-15 zlib1g-dev
  clang libclang-rt-14-dev chromium curl ca-certificates r-cran-rsdmx)

# Each line also says how long the previous step took, so a run reports its own timings.
STEP_START=$SECONDS
log() {
  printf '\033[1m== [%4ds, previous step %ds] %s\033[0m\n' "$SECONDS" "$((SECONDS - STEP_START))" "$*"
  STEP_START=$SECONDS
}

setup() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
    echo "statgov: Node.js 20 or newer is needed for the web client (found: $(node --version 2>/dev/null || echo none))." >&2
    echo "statgov: 需要 Node.js 20 或更新版本来构建网页前端。" >&2
    exit 1
  fi
  # npm ci only when the lock file changed since the last install.
  local stamp=web/node_modules/.statgov-lock-hash
  local want
  want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "npm ci (web)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

build() {
  log "build C++ (build/)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)"
  log "build web client (web/dist)"
  (cd web && npm run --silent build >/dev/null)
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }

serve() {
  local db=${STATGOV_DB:-var/statgov.db}
  local key_args=()
  [ -f var/keys/release.key ] && key_args=(--release-key var/keys/release.key --export-dir var/portal-inbox --portal-site web/dist-portal)
  # The public portal beside it (a separate process that never opens the database; it takes the
  # signed packages the internal server writes to var/portal-inbox).
  if [ -f var/keys/release.pub ]; then
    ./build/statgov portal --inbox var/portal-inbox --data var/portal-data --release-pub var/keys/release.pub \
      --listen "127.0.0.1:${PORTAL_PORT:-8081}" >var/portal.log 2>&1 &
    log "public portal http://127.0.0.1:${PORTAL_PORT:-8081}  (log: var/portal.log)"
  fi
  log "serving http://127.0.0.1:${PORT:-8080}  (demo logins in README.md)"
  exec ./build/statgov --db "$db" serve --listen "127.0.0.1:${PORT:-8080}" --web web/dist "${key_args[@]}"
}

demo() {
  setup
  build
  log "load the demo database (var/statgov.db) and sign its past releases for the portal"
  mkdir -p var
  [ -f var/keys/release.key ] || ./build/statgov release keygen --out var/keys
  rm -rf var/portal-inbox var/portal-data
  ./build/statgov --db var/statgov.db demo --force --release-key var/keys/release.key \
    --export-dir var/portal-inbox --portal-site web/dist-portal
  serve
}

unit() {
  log "C++ unit and integration tests (ctest)"
  (cd build && ctest --output-on-failure -j"$(nproc)")
  log "web unit tests (vitest)"
  (cd web && npx vitest run)
}

pg() {
  # The same C++ suite on PostgreSQL 15: a throwaway server (tools/pg_fixture.sh starts it as the
  # postgres user on a free loopback port and always stops and removes it); each test makes its
  # own database there. The few SQLite-only tests skip with their reason (docs/postgres.md).
  log "C++ unit and integration tests on PostgreSQL 15 (ctest, throwaway server)"
  tools/pg_fixture.sh sh -c 'cd build && ctest --output-on-failure -j"$(nproc)"'
}

asan() {
  log "ASan + UBSan build of the tests (build-asan/)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSTATGOV_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$(nproc)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$(nproc)")
}

fuzz() {
  log "fuzz smoke: replay the committed corpora, then fuzz each target briefly from a fixed seed (ASan + UBSan)"
  tools/fuzz_smoke.sh
}

e2e() {
  log "browser test: demo database, real server, headless chromium"
  local dir port pid rc=0
  dir=$(mktemp -d)
  ./build/statgov --db "$dir/e2e.db" demo --units 400 >/dev/null
  ./build/statgov release keygen --out "$dir/keys" >/dev/null
  ./build/statgov --db "$dir/e2e.db" serve --listen 127.0.0.1:0 --port-file "$dir/port" --web web/dist \
    --release-key "$dir/keys/release.key" --export-dir "$dir/outbox" >"$dir/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
  port=$(cat "$dir/port")
  (cd web && BASE_URL="http://127.0.0.1:$port" node --test --test-concurrency=1 e2e/) || rc=$?
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ $rc -eq 0 ] || { echo "server log:"; tail -50 "$dir/server.log"; }
  rm -rf "$dir"
  [ $rc -eq 0 ] || return $rc
  log "public portal: browser test (zh, en, phone) and open-data clients (ajv schemas, jsonstat-toolkit, sdmx-rest, R rsdmx)"
  tools/portal_fixture.sh sh -c 'cd web && npm run --silent e2e:portal && npm run --silent test:clients'
}

test_all() {
  setup
  build
  unit
  pg
  e2e
  asan
  fuzz
  log "all tests passed"
}

case "${1:-}" in
  demo) demo ;;
  test) test_all ;;
  setup) setup ;;
  build) setup; build ;;
  serve) serve ;;
  unit) unit ;;
  pg) pg ;;
  asan) asan ;;
  e2e) e2e ;;
  fuzz) fuzz ;;
  *) echo "usage: ./statgov.sh demo | test | setup | build | serve | unit | pg | asan | e2e | fuzz" >&2; exit 2 ;;
esac
