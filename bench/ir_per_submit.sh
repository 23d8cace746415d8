#!/bin/bash
# Instructions per validated submit, counted by callgrind (valgrind): a figure that does not move
# with the machine's load, where submits per second on this shared machine vary by a third between
# runs minutes apart (bench/INGEST.md). It counts instructions only: not the time of system calls
# (fsync, sockets), cache misses or waiting for a lock.
#
#   bench/ir_per_submit.sh [STATGOV] [INGEST_BENCH] [CLIENTS]
#
# Runs ingest_bench twice at CLIENTS (default 16) with `serve` under callgrind, for 10 s and 20 s,
# and prints the difference in instructions over the difference in submits answered: the start-up
# (migrations, the demo's login with its Argon2id hash, the unit listing) falls out. Under callgrind
# the server's threads take turns on one core, so the group commit's batches are small and its
# per-batch work (COMMIT, WAL writes) weighs more per submit than at full load.
set -euo pipefail
statgov=$(realpath "${1:-./build/statgov}")
bench=$(realpath "${2:-./build/bench/ingest_bench}")
clients=${3:-16}
cd "$(dirname "$0")/.."  # the repository: ingest_bench's --data data
command -v valgrind >/dev/null || { echo "ir_per_submit: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[ -x "$statgov" ] || { echo "ir_per_submit: no statgov at $statgov" >&2; exit 1; }
[ -x "$bench" ] || { echo "ir_per_submit: no ingest_bench at $bench (cmake --build build --target ingest_bench)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# What ingest_bench runs as statgov: `serve` under callgrind, anything else (demo) as is.
cat > "$dir/statgov" <<WRAP
#!/bin/bash
for a in "\$@"; do
  if [ "\$a" = serve ]; then
    exec valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.\$\$" --log-file="$dir/valgrind.\$\$" "$statgov" "\$@"
  fi
done
exec "$statgov" "\$@"
WRAP
chmod +x "$dir/statgov"
run() {  # seconds -> "submits instructions"
  rm -f "$dir"/callgrind.*
  local n
  n=$("$bench" --statgov "$dir/statgov" --data data --units 3000 --seconds "$1" --levels "$clients" 2>/dev/null |
      awk -v c="$clients" '$1 == c && NF >= 8 { print $8 }')
  local ir
  ir=$(grep -h '^summary:' "$dir"/callgrind.* | awk '{ print $2 }')
  [ -n "$n" ] && [ -n "$ir" ] || { echo "ir_per_submit: the run of $1 s printed no figures" >&2; exit 1; }
  echo "$n $ir"
}
# Not `read < <(run ...)`: a failing run must stop the script, not leave the figures empty.
r1=$(run 10)
r2=$(run 20)
read -r n1 ir1 <<< "$r1"
read -r n2 ir2 <<< "$r2"
echo "10 s: $n1 submits, $ir1 instructions; 20 s: $n2 submits, $ir2 instructions"
awk -v n1="$n1" -v i1="$ir1" -v n2="$n2" -v i2="$ir2" 'BEGIN {
  if (n2 <= n1) { print "ir_per_submit: the longer run answered no more submits" > "/dev/stderr"; exit 1 }
  per = (i2 - i1) / (n2 - n1)
  printf "instructions per submit: %.1fk (start-up about %.0fM)\n", per / 1e3, (i1 - n1 * per) / 1e6
}'
