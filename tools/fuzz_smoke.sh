#!/bin/sh
# Short fuzz run for the test command (issue #7): builds every libFuzzer target (fuzz/build.sh),
# replays each target's committed corpus (fuzz/corpus/<name>/, regression cases included), then
# fuzzes each target for a bounded time. Exits non-zero on any crash, sanitizer report, leak or
# timeout, naming the input that caused it.
#
# Works from a fresh clone on Debian 12 once the fuzzing toolchain is installed:
#   apt-get install -y clang libclang-rt-14-dev
# (on top of the project's own build packages: pkg-config, libzip, pugixml, libxlsxwriter,
# libsodium, fmt and nlohmann-json development packages).
#
# Usage: tools/fuzz_smoke.sh            # fixed seed and run count per target (the test command)
#        FUZZ_SEED=random FUZZ_SECONDS=300 tools/fuzz_smoke.sh   # a longer, exploring run
# By default every run tries the same inputs (seed 1, a fixed number of runs per target, at most
# FUZZ_SECONDS each as a safety bound), so the test command gives the same answer on the same
# commit: an exploring run that finds a new bug is a finding to fix, not a red build on an
# unrelated change. With FUZZ_SEED=random each target fuzzes for FUZZ_SECONDS from a random seed.
# Output goes to build-fuzz/ (OUT=... to change); new inputs found during the run stay there and
# are never written into fuzz/corpus/.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-build-fuzz}
SEED=${FUZZ_SEED:-1}
if [ "$SEED" = random ]; then
  SECONDS_EACH=${FUZZ_SECONDS:-20}
else
  SECONDS_EACH=${FUZZ_SECONDS:-120}
fi
export OUT

command -v clang++ >/dev/null 2>&1 || {
  echo "fuzz_smoke: clang++ not found; apt-get install -y clang libclang-rt-14-dev" >&2
  exit 2
}
fuzz/build.sh

# target binary : corpus folder under fuzz/corpus : runs with a fixed seed (about 15 s each here)
TARGETS="csv_fuzz:csv:400000 xlsx_fuzz:xlsx:120000 rules_fuzz:rules:50000 json_body_fuzz:json:100000 package_fuzz:package:80000"
FLAGS="-timeout=10 -rss_limit_mb=4096 -print_final_stats=1"
failed=""
start=$(date +%s)
for t in $TARGETS; do
  bin=${t%%:*}
  rest=${t#*:}
  name=${rest%%:*}
  runs_fixed=${rest##*:}
  seeds=fuzz/corpus/$name
  work=$OUT/smoke-$name
  art=$OUT/smoke-artifacts/$name/
  rm -rf "$work" "$art"
  mkdir -p "$work" "$art"
  log=$OUT/smoke-$name.log
  # 1. Replay every committed input once (crash-* regression cases first in line: they are files
  #    of the seed folder like any other).
  if ! "$OUT/$bin" $FLAGS -artifact_prefix="$art" -runs=0 "$seeds" >"$log" 2>&1; then
    failed="$failed $bin(replay)"
    echo "fuzz_smoke: $bin failed while replaying $seeds:" >&2
    tail -n 40 "$log" >&2
    continue
  fi
  # 2. A short fuzzing run from the committed corpus.
  if [ "$SEED" = random ]; then
    bound="-max_total_time=$SECONDS_EACH"
  else
    bound="-seed=$SEED -runs=$runs_fixed -max_total_time=$SECONDS_EACH"
  fi
  if ! "$OUT/$bin" $FLAGS -artifact_prefix="$art" $bound "$work" "$seeds" >>"$log" 2>&1; then
    failed="$failed $bin"
    echo "fuzz_smoke: $bin found a failing input (in $art):" >&2
    ls "$art" >&2 || true
    tail -n 40 "$log" >&2
    continue
  fi
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
  echo "fuzz_smoke: $bin ok (${runs:-?} runs, seed $SEED, corpus $seeds replayed)"
done
echo "fuzz_smoke: done in $(( $(date +%s) - start ))s after the build"
if [ -n "$failed" ]; then
  echo "fuzz_smoke: FAILED:$failed" >&2
  echo "Copy the crash-* file into fuzz/corpus/<name>/ as a regression case, fix the bug, re-run." >&2
  exit 1
fi
