#!/bin/sh
# Builds the libFuzzer targets into build-fuzz/ (git-ignored via /build*/). Run from anywhere; needs
# clang and libclang-rt-14-dev (apt-get install -y clang libclang-rt-14-dev).
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-build-fuzz}
mkdir -p "$OUT"
CXX=${CXX:-clang++}
FLAGS="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I src"
BASE="src/base/text.cpp src/base/csv.cpp src/base/xlsx.cpp"
LIBS="$(pkg-config --cflags --libs libzip pugixml xlsxwriter)"
$CXX $FLAGS fuzz/csv_fuzz.cpp $BASE $LIBS -o "$OUT/csv_fuzz"
$CXX $FLAGS fuzz/xlsx_fuzz.cpp $BASE $LIBS -o "$OUT/xlsx_fuzz"
echo "built $OUT/csv_fuzz $OUT/xlsx_fuzz"
