#!/usr/bin/env bash
# Backups of statgov's PostgreSQL 15 database: a physical base backup (pg_basebackup) plus the
# continuous WAL archive, restored into a new data folder by replaying the archive to its end
# (docs/postgres.md, "Backups"). tests/pg_backup_test.cpp runs exactly these commands on a live
# server while clients submit, so the documented procedure is the tested one.
#
#   deploy/pg_backup.sh settings ARCHIVE_DIR
#       print the postgresql.conf lines that turn WAL archiving on (append them, then restart)
#   deploy/pg_backup.sh archive-wal WAL_PATH WAL_NAME ARCHIVE_DIR
#       the archive_command: copy one WAL file into the archive (fsynced, then renamed into place)
#   deploy/pg_backup.sh base CONNINFO BACKUP_DIR
#       pg_basebackup of the running server into BACKUP_DIR (must not exist), then pg_verifybackup
#   deploy/pg_backup.sh restore BACKUP_DIR ARCHIVE_DIR NEW_DATA_DIR [--to-time TIME]
#       a new data folder from the base backup, set to replay the archive to its end and promote;
#       with --to-time, only the transactions committed at or before TIME (a timestamp with its
#       zone, e.g. '2026-11-27 08:50:00+08'), then promote: the database as it was at that moment.
#       Start PostgreSQL on it afterwards (pg_ctl start, or your service manager)
#   deploy/pg_backup.sh check CONNINFO
#       PostgreSQL's own consistency check of a database (pg_amcheck: every table and B-tree index,
#       --heapallindexed); exits non-zero on any corruption
#
# Run as root (the PostgreSQL commands then run as the postgres user) or as postgres. CONNINFO is a
# libpq URL or keyword string, e.g. postgresql://postgres@127.0.0.1:5432/statgov (pg_basebackup
# connects to the server as a whole with the replication protocol: the user needs REPLICATION and
# pg_hba.conf a "replication" line). Environment: PG_BIN (default /usr/lib/postgresql/15/bin).
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() { echo "pg_backup: $*" >&2; exit 1; }
usage() {
  die "usage: deploy/pg_backup.sh settings ARCHIVE_DIR | archive-wal WAL_PATH WAL_NAME ARCHIVE_DIR | base CONNINFO BACKUP_DIR | restore BACKUP_DIR ARCHIVE_DIR NEW_DATA_DIR [--to-time TIME] | check CONNINFO"
}
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}
abs() { case "$1" in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
need_pg() { [ -x "$PG_BIN/$1" ] || die "no $1 at $PG_BIN (apt-get install postgresql-15, or set PG_BIN)"; }

cmd=${1:-}
[ -n "$cmd" ] || usage
shift

case "$cmd" in
  settings)
    [ $# -eq 1 ] || usage
    archive=$(abs "$1")
    self=$(abs "$0")
    # archive_timeout: a quiet database still closes a WAL file, and so archives it, every minute,
    # which bounds what a restore from the archive can miss.
    cat <<EOF
# statgov: continuous WAL archiving (deploy/pg_backup.sh, docs/postgres.md)
wal_level = replica
archive_mode = on
archive_command = '$self archive-wal %p %f $archive'
archive_timeout = 60
EOF
    ;;

  archive-wal)
    [ $# -eq 3 ] || usage
    src=$1 name=$2 archive=$3
    [ -d "$archive" ] || die "archive folder $archive does not exist"
    [ -f "$src" ] || die "no WAL file $src"
    if [ -e "$archive/$name" ]; then
      # PostgreSQL may archive a file again after a crash: the same bytes are fine, other bytes
      # are a second cluster writing into this archive (refuse, so the operator notices).
      cmp -s "$src" "$archive/$name" && exit 0
      die "$archive/$name exists with other content; is another server archiving here?"
    fi
    cp "$src" "$archive/.$name.tmp"
    sync "$archive/.$name.tmp"
    mv "$archive/.$name.tmp" "$archive/$name"
    sync "$archive"
    ;;

  base)
    [ $# -eq 2 ] || usage
    need_pg pg_basebackup
    conninfo=$1
    dest=$(abs "$2")
    [ ! -e "$dest" ] || die "$dest exists already; a base backup goes into a new folder"
    mkdir -p "$(dirname "$dest")"
    [ "$(id -un)" = postgres ] || chown postgres "$(dirname "$dest")"
    # -X stream: the backup also holds the WAL written while it was taken, so it is restorable by
    # itself; the archive then carries it forward to the end. --checkpoint=fast: start now.
    as_postgres "$PG_BIN/pg_basebackup" -d "$conninfo" -D "$dest" -Fp -X stream --checkpoint=fast \
      -l "statgov $(date -u +%Y-%m-%dT%H:%M:%SZ)" ||
      die "pg_basebackup failed"
    as_postgres "$PG_BIN/pg_verifybackup" -q "$dest" || die "pg_verifybackup found a damaged backup in $dest"
    echo "pg_backup: base backup in $dest (verified)"
    ;;

  restore)
    [ $# -eq 3 ] || [ $# -eq 5 ] || usage
    target=""
    if [ $# -eq 5 ]; then
      [ "$4" = --to-time ] || usage
      target=$5
      # It goes into postgresql.auto.conf between quotes: digits, separators and a zone only.
      [[ "$target" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}[\ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?\ ?([+-][0-9]{2}(:?[0-9]{2})?|Z|UTC)$ ]] ||
        die "--to-time wants a timestamp with its zone, e.g. '2026-11-27 08:50:00+08' (got: $target)"
    fi
    backup=$(abs "$1")
    archive=$(abs "$2")
    new=$(abs "$3")
    [ -f "$backup/backup_label" ] || die "$backup is not a base backup (no backup_label)"
    [ -d "$archive" ] || die "archive folder $archive does not exist"
    [ ! -e "$new" ] || die "$new exists already; restore into a new folder"
    mkdir -p "$(dirname "$new")"
    cp -a "$backup" "$new"
    chown -R postgres "$new" 2>/dev/null || true
    chmod 700 "$new"
    # Replay every WAL file the archive has, then promote (end of recovery opens a new timeline).
    # The server keeps archiving into the same folder afterwards, on that new timeline.
    cat >>"$new/postgresql.auto.conf" <<EOF
# statgov restore $(date -u +%Y-%m-%dT%H:%M:%SZ) from $backup
restore_command = 'cp "$archive/%f" "%p"'
recovery_target_timeline = 'latest'
EOF
    if [ -n "$target" ]; then
      # Stop after the last transaction committed at or before the target (inclusive), then open
      # for writes. Should the archive end before the target, PostgreSQL stops with "recovery
      # ended before configured recovery target was reached" rather than open a partial copy.
      printf "recovery_target_time = '%s'\nrecovery_target_action = 'promote'\n" "$target" >>"$new/postgresql.auto.conf"
    fi
    as_postgres touch "$new/recovery.signal"
    until="to the end"
    [ -z "$target" ] || until="up to $target"
    echo "pg_backup: $new is ready; start PostgreSQL on it: it replays $archive $until, then opens for writes"
    ;;

  check)
    [ $# -eq 1 ] || usage
    need_pg pg_amcheck
    # --install-missing: CREATE EXTENSION amcheck (shipped in postgresql-15) if the database lacks it.
    as_postgres "$PG_BIN/pg_amcheck" --install-missing --heapallindexed "$1" ||
      die "pg_amcheck reported corruption (or could not connect) in $1"
    echo "pg_backup: pg_amcheck: no corruption found"
    ;;

  *) usage ;;
esac
