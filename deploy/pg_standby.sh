#!/usr/bin/env bash
# A PostgreSQL 15 primary and a synchronous streaming-replication standby on loopback ports, for
# trying statgov's failover on one machine (docs/postgres.md). Not a production layout: trust
# authentication on 127.0.0.1, both servers under one folder.
#
#   deploy/pg_standby.sh start DIR [PRIMARY_PORT [STANDBY_PORT]]   create and start both; prints URLs
#   deploy/pg_standby.sh stop DIR                                   stop both (the folder stays)
#   deploy/pg_standby.sh kill-primary DIR                           SIGKILL every process of the primary
#   deploy/pg_standby.sh promote DIR                                promote the standby (waits until it is)
#
# The primary has synchronous_standby_names = 'statgov_standby' and synchronous_commit = on: a
# COMMIT returns only once the standby has the WAL on disk, so whatever statgov acknowledged
# survives losing the primary. The standby is a pg_basebackup -R copy that streams from it; once
# promoted it commits without waiting for any standby (there is none left) until a new one is
# attached.
# Failover by hand: kill the primary (kill-primary), then promote the standby (promote, i.e.
#   runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D DIR/standby promote)
# and point statgov at both with a multi-host URL (it reconnects to whichever accepts writes):
#   postgresql://postgres@127.0.0.1:P1,127.0.0.1:P2/statgov?target_session_attrs=read-write
# Run as root (the servers run as the postgres user) or as postgres.
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() { echo "pg_standby: $*" >&2; exit 1; }
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: deploy/pg_standby.sh start|stop|kill-primary|promote DIR [PRIMARY_PORT [STANDBY_PORT]]"
[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL 15 at $PG_BIN (apt-get install postgresql-15)"

case "$cmd" in
  start)
    p1=${3:-$(free_port)}
    p2=${4:-$(free_port)}
    [ ! -e "$dir/primary" ] || die "$dir/primary exists already"
    mkdir -p "$dir/sock"
    chown -R postgres "$dir"
    as_postgres "$PG_BIN/initdb" -D "$dir/primary" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    cat >>"$dir/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $p1
unix_socket_directories = '$dir/sock'
fsync = on
wal_level = replica
max_wal_senders = 4
synchronous_standby_names = 'statgov_standby'
synchronous_commit = on
EOF
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$dir/standby" -R -X stream >/dev/null
    # -R wrote primary_conninfo; the standby must name itself as the primary expects.
    cat >>"$dir/standby/postgresql.auto.conf" <<EOF
primary_conninfo = 'host=127.0.0.1 port=$p1 user=postgres application_name=statgov_standby'
# Once promoted it is alone: with the primary's synchronous_standby_names every COMMIT would wait
# for a standby that no longer exists. Attach a new standby to it to be synchronous again.
synchronous_standby_names = ''
EOF
    sed -i "s/^port = $p1$/port = $p2/" "$dir/standby/postgresql.conf"
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w start >/dev/null
    for _ in $(seq 100); do
      state=$(as_postgres psql -h 127.0.0.1 -p "$p1" -U postgres -tAc \
        "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'statgov_standby'" 2>/dev/null || true)
      [ "$state" = sync ] && break
      sleep 0.1
    done
    [ "$state" = sync ] || die "the standby did not become synchronous (see $dir/*.log)"
    echo "$p1" >"$dir/primary.port"
    echo "$p2" >"$dir/standby.port"
    echo "primary  postgresql://postgres@127.0.0.1:$p1/postgres"
    echo "standby  postgresql://postgres@127.0.0.1:$p2/postgres (synchronous, read-only until promoted)"
    echo "statgov  postgresql://postgres@127.0.0.1:$p1,127.0.0.1:$p2/DBNAME?target_session_attrs=read-write"
    ;;
  stop)
    for s in primary standby; do
      [ -d "$dir/$s" ] && as_postgres "$PG_BIN/pg_ctl" -D "$dir/$s" -m immediate -w stop >/dev/null 2>&1 || true
    done
    ;;
  kill-primary)
    # Every process of the primary at once, as a power cut would: the postmaster and its children
    # (backends, walsender, checkpointer...), so none of them sends another byte.
    pm=$(head -1 "$dir/primary/postmaster.pid" 2>/dev/null) || die "no running primary in $dir"
    kill -9 $(ps --ppid "$pm" -o pid= | tr '\n' ' ') "$pm" 2>/dev/null || true
    ;;
  promote)
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/standby" -w promote >/dev/null
    ;;
  *) die "usage: deploy/pg_standby.sh start|stop|kill-primary|promote DIR [PRIMARY_PORT [STANDBY_PORT]]" ;;
esac
