#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server, for running the tests (or statgov) on PostgreSQL.
#
#   tools/pg_fixture.sh                      start it and print STATGOV_TEST_PG; Ctrl-C stops it
#   tools/pg_fixture.sh CMD [ARGS...]        run CMD with STATGOV_TEST_PG set, then stop the server;
#                                            exits with CMD's status
#   e.g. tools/pg_fixture.sh sh -c 'cd build && ctest --output-on-failure'
#
# Steps: initdb (trust authentication, UTF-8, C.UTF-8 locale) in a temporary folder owned by the
# postgres user (initdb refuses root), pg_ctl start on a free loopback port with a private socket
# folder and fsync on, then the command. The server is stopped and the folder removed on every
# exit (trap). STATGOV_TEST_PG is the server's "postgres" database; each test creates its own
# database there (store/test_database.hpp).
# Environment: PG_BIN (default /usr/lib/postgresql/15/bin), KEEP=1 keeps the folder (data, log).
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() { echo "pg_fixture: $*" >&2; exit 1; }
[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL 15 at $PG_BIN (apt-get install postgresql-15, or set PG_BIN)"
id postgres >/dev/null 2>&1 || die "no postgres user (it comes with the postgresql-15 package)"

# As the postgres user: runuser when we are root, directly when we are postgres already.
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)); }

WORK=$(mktemp -d /tmp/statgov-pg.XXXXXX)
STARTED=0
cleanup() {
  if [ "$STARTED" = 1 ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "pg_fixture: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/sock"
chown -R postgres "$WORK"
chmod 700 "$WORK"
as_postgres "$PG_BIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
PORT=$(free_port)
# fsync on: the tests check that what was acknowledged survives (kill -9), as in production.
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w -o \
  "-p $PORT -k $WORK/sock -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300" start >/dev/null ||
  { tail -20 "$WORK/log" >&2; die "the server did not start"; }
STARTED=1
export STATGOV_TEST_PG="postgresql://postgres@127.0.0.1:$PORT/postgres"

if [ $# -eq 0 ]; then
  echo "STATGOV_TEST_PG=$STATGOV_TEST_PG"
  echo "pg_fixture: running (log: $WORK/log); Ctrl-C stops it" >&2
  while true; do sleep 3600; done
fi
"$@"
