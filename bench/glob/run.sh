#!/bin/sh
# Scope globs: the linear matcher against the former recursive one on the
# exponential pattern of issue 16 ("**a" x N + "**b", 60-character path).
#
# usage: bench/glob/run.sh [MAX_REPEATS]   (default 7: the old matcher takes
#        seconds there, and about four times longer per extra repeat)
# Needs build/libwarden.a (make -j2).
set -eu
max=${1:-7}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/wd-bench-glob.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# the former matcher, as the glob fuzz target keeps it for its oracle
sed -n '/^\/\* \[\.\.\.\] at p/,/^int LLVMFuzzerTestOneInput(const uint8_t \*data, size_t size)$/p' \
    "$here/tests/fuzz/fuzz_beneath_glob.c" | sed '$d' > "$tmp/old_glob.h"
cd "$here"
cc -O2 -D_GNU_SOURCE -Iinclude -I"$tmp" -o "$tmp/glob_bench" bench/glob/glob_bench.c \
    build/libwarden.a $(pkg-config --libs libgit2 libcurl jansson tree-sitter libseccomp) \
    build/grammar-obj/*/src/*.o -lm -pthread
"$tmp/glob_bench" "$max"
