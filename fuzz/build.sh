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
# The rule language and the JSON request validators: the rules and domain layers with the whole
# base layer under them (clock and crypto need fmt, libsodium and OpenSSL's libcrypto). Unit tests
# (*_test.cpp) are left out: they would bring gtest and a second main.
BASE_ALL="$BASE src/base/clock.cpp src/base/crypto.cpp"
RULES=$(ls src/rules/*.cpp | grep -v '_test\.cpp$')
DOMAIN=$(ls src/domain/*.cpp | grep -v '_test\.cpp$')
LIBS_ALL="$LIBS $(pkg-config --cflags --libs libsodium fmt libcrypto)"
$CXX $FLAGS fuzz/rules_fuzz.cpp $RULES $DOMAIN $BASE_ALL $LIBS_ALL -o "$OUT/rules_fuzz"
$CXX $FLAGS -DSTATGOV_SOURCE_DIR="\"$(pwd)\"" fuzz/json_body_fuzz.cpp $DOMAIN $BASE_ALL $LIBS_ALL \
  -o "$OUT/json_body_fuzz"
# What the public portal reads from outside: release packages, their datasets, SDMX keys.
PUBLISH=$(ls src/publish/*.cpp | grep -v '_test\.cpp$')
$CXX $FLAGS -DSTATGOV_SOURCE_DIR="\"$(pwd)\"" fuzz/package_fuzz.cpp $PUBLISH $BASE_ALL $LIBS_ALL \
  -o "$OUT/package_fuzz"
echo "built $OUT/csv_fuzz $OUT/xlsx_fuzz $OUT/rules_fuzz $OUT/json_body_fuzz $OUT/package_fuzz"
