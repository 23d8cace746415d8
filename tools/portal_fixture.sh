#!/usr/bin/env bash
# A public portal with the fixture package, for the portal's browser and open-data client tests.
#
#   tools/portal_fixture.sh                      start it and print PORTAL_URL; Ctrl-C stops it
#   tools/portal_fixture.sh CMD [ARGS...]        run CMD with PORTAL_URL set, then stop the portal;
#                                                exits with CMD's status
#   e.g. tools/portal_fixture.sh sh -c 'cd web && npm run --silent e2e:portal && npm run --silent test:clients'
#
# Steps: a fresh key pair (statgov release keygen), the fixture (web/clients/fixture: release.json,
# calendar.json, datasets/, documents/) plus site/ = the built portal front end (web/dist-portal,
# `npm run build` in web/) packed and signed (statgov release pack) into the inbox of a
# `statgov portal` on a free port, and a wait until /healthz reports the package accepted.
# Environment: STATGOV (default build/statgov), SITE (default web/dist-portal), FIXTURE (default
# web/clients/fixture), KEEP=1 keeps the
# temporary folder (keys, inbox, data, portal.log) for a look afterwards.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATGOV=${STATGOV:-$ROOT/build/statgov}
FIXTURE=${FIXTURE:-$ROOT/web/clients/fixture}
SITE=${SITE:-$ROOT/web/dist-portal}

die() { echo "portal_fixture: $*" >&2; exit 1; }
[ -x "$STATGOV" ] || die "no statgov binary at $STATGOV (build it, or set STATGOV)"
[ -f "$SITE/index.html" ] || die "no built portal front end at $SITE (run: cd web && npm run build)"
command -v curl >/dev/null || die "curl is needed"

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "portal_fixture: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The package content: the fixture as it is, and the site.
mkdir -p "$WORK/stage" "$WORK/inbox" "$WORK/data"
cp -R "$FIXTURE/." "$WORK/stage/"
rm -f "$WORK/stage/README.md"
mkdir -p "$WORK/stage/site"
cp -R "$SITE/." "$WORK/stage/site/"

# The bureau is the agency of the fixture's datasets (not hard-wired here).
AGENCY=$(grep -ho '"agency": *"[^"]*"' "$WORK"/stage/datasets/*.json | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
[ -n "$AGENCY" ] || die "no agency in the fixture's datasets"
"$STATGOV" release keygen --out "$WORK/keys" >/dev/null
"$STATGOV" release pack --key "$WORK/keys/release.key" --dir "$WORK/stage" --agency "$AGENCY" --sequence 1 \
  --out "$WORK/fixture.sgpkg" >/dev/null
"$STATGOV" release verify --pub "$WORK/keys/release.pub" "$WORK/fixture.sgpkg" >/dev/null ||
  die "the fixture package does not verify"
# Into the inbox the way the portal expects: written under another name, then renamed.
cp "$WORK/fixture.sgpkg" "$WORK/inbox/fixture.sgpkg.tmp"
mv "$WORK/inbox/fixture.sgpkg.tmp" "$WORK/inbox/fixture.sgpkg"

# Any free port (the portal writes it to a file); no rate limit: the tests fetch in bursts.
"$STATGOV" portal --inbox "$WORK/inbox" --data "$WORK/data" --release-pub "$WORK/keys/release.pub" \
  --listen 127.0.0.1:0 --port-file "$WORK/port" --rate-limit 0 >"$WORK/portal.log" 2>&1 &
PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { cat "$WORK/portal.log" >&2; die "the portal did not start listening"; }
URL="http://127.0.0.1:$(cat "$WORK/port")"

accepted=""
for _ in $(seq 150); do
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/portal.log" >&2; die "the portal exited"; }
  if body=$(curl -fsS "$URL/healthz" 2>/dev/null) && echo "$body" | grep -Eq '"packages": *[1-9]'; then
    accepted=1
    break
  fi
  sleep 0.2
done
if [ -z "$accepted" ]; then
  cat "$WORK/portal.log" >&2
  ls -la "$WORK/inbox" "$WORK/inbox/refused" 2>/dev/null >&2 || true
  cat "$WORK/inbox/refused/"*.reason.txt 2>/dev/null >&2 || true
  die "the fixture package was not accepted within 30 s"
fi

if [ $# -gt 0 ]; then
  rc=0
  PORTAL_URL=$URL "$@" || rc=$?
  [ $rc -eq 0 ] || { echo "portal log:" >&2; tail -30 "$WORK/portal.log" >&2; }
  exit $rc
fi
echo "PORTAL_URL=$URL"
echo "portal_fixture: serving the fixture at $URL; Ctrl-C stops it" >&2
wait "$PID"
