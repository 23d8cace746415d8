#!/usr/bin/env bash
# The ingest benchmark on PostgreSQL 15 with a synchronous standby on loopback (issue #6): validated,
# durable submissions per second through `statgov serve`, beside the raw rate of inserting the same
# documents into the same primary through libpq, in the same run.
#
#   bench/pg_ingest.sh [INGEST_BENCH ARGS...]     (run as root; needs build/statgov and
#                                                  build/bench/ingest_bench, or STATGOV / INGEST_BENCH)
#   e.g. bench/pg_ingest.sh --units 3000 --seconds 5 --levels 1,64,512
#
# Steps: deploy/pg_standby.sh starts a primary (synchronous_standby_names = 'statgov_standby',
# synchronous_commit = on) and its streaming standby; a database statgov (collation C) is created on
# the primary; ingest_bench --pg runs with the primary's URL (serve, the demo and the raw inserts all
# on it, so every COMMIT waits for the standby's flush). Everything is stopped and removed at the
# end. Set KEEP=1 to keep the folder (server logs). With SAMPLE=1, what the primary's active
# sessions wait on (pg_stat_activity, sampled every 0.1 s) and the standby's flush lag
# (pg_stat_replication) are counted during the run and printed after it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATGOV=${STATGOV:-$ROOT/build/statgov}
INGEST_BENCH=${INGEST_BENCH:-$(dirname "$STATGOV")/bench/ingest_bench}
[ -x "$STATGOV" ] || { echo "pg_ingest: no statgov at $STATGOV" >&2; exit 1; }
[ -x "$INGEST_BENCH" ] || { echo "pg_ingest: no ingest_bench at $INGEST_BENCH" >&2; exit 1; }

. "$ROOT/bench/standby_pair.sh"
WORK=""
cleanup() { standby_down pg_ingest; }
trap cleanup EXIT
trap 'exit 130' INT TERM

standby_up pg-ingest
state=$(psql -tA "postgresql://postgres@127.0.0.1:$P1/postgres" -c \
  "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'statgov_standby'")
echo "primary :$P1 ($(psql -tA "postgresql://postgres@127.0.0.1:$P1/postgres" -c 'SHOW synchronous_commit') commit), standby :$P2 ($state)"
[ "$state" = sync ] || { echo "pg_ingest: the standby is not synchronous" >&2; exit 1; }
SAMPLER=""
if [ "${SAMPLE:-0}" = 1 ]; then
  # One row per active session per sample: wait_event_type:wait_event (CPU when it waits on nothing).
  while :; do
    psql -tA "postgresql://postgres@127.0.0.1:$P1/postgres" -c \
      "SELECT 'wait ' || COALESCE(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
         WHERE datname = 'statgov' AND state = 'active' AND pid <> pg_backend_pid()
       UNION ALL SELECT 'flush_lag_ms ' || round(extract(epoch FROM flush_lag) * 1000, 1) FROM pg_stat_replication
         WHERE flush_lag IS NOT NULL" 2>/dev/null || true
    sleep 0.1
  done >"$WORK/samples" &
  SAMPLER=$!
fi
cd "$ROOT"
rc=0
"$INGEST_BENCH" --statgov "$STATGOV" --data "$ROOT/data" --pg "postgresql://postgres@127.0.0.1:$P1/statgov" "$@" || rc=$?
if [ -n "$SAMPLER" ]; then
  kill "$SAMPLER" 2>/dev/null || true
  wait "$SAMPLER" 2>/dev/null || true
  echo "active sessions of the primary by wait event (samples every 0.1 s over the whole run):"
  grep '^wait ' "$WORK/samples" | sort | uniq -c | sort -rn | head -12
  echo "standby flush lag (pg_stat_replication.flush_lag, ms): $(grep '^flush_lag_ms ' "$WORK/samples" | awk '{print $2}' |
    sort -n | awk '{v[NR]=$1; s+=$1} END {if (NR) printf "%d samples, mean %.2f, median %.2f, max %.2f", NR, s/NR, v[int((NR+1)/2)], v[NR]; else print "no samples"}')"
fi
exit $rc
