# Sourced by bench/pg_failover.sh and bench/pg_ingest.sh: a primary + synchronous standby from
# deploy/pg_standby.sh in a fresh folder, with an empty `statgov` database on the primary.
#   standby_up NAME      sets WORK (the folder), P1 (primary port), P2 (standby port)
#   standby_down NAME    stops both servers and removes WORK (KEEP=1 keeps it, for the logs)
# Needs ROOT (the checkout) set by the caller.

standby_up() {
  WORK=$(mktemp -d "/tmp/statgov-$1.XXXXXX")
  chmod 755 "$WORK"  # the postgres user reaches its folders inside
  "$ROOT/deploy/pg_standby.sh" start "$WORK/pg" >/dev/null
  P1=$(cat "$WORK/pg/primary.port")
  P2=$(cat "$WORK/pg/standby.port")
  psql -q "postgresql://postgres@127.0.0.1:$P1/postgres" -c "CREATE DATABASE statgov TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
}

standby_down() {
  [ -n "${WORK:-}" ] || return 0
  "$ROOT/deploy/pg_standby.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then echo "$1: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
