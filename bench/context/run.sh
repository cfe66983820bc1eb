#!/bin/sh
# bench/context/run.sh REPO [CASES] [BUILD]: context recall over REPO's bug-fix commits.
# Builds probe.c against BUILD's libwarden.a (default build/), then runs bench.py.
set -eu
repo=$1
cases=${2:-100}
build=${3:-build}
here=$(dirname "$0")
top=$here/../..
pkgs="libgit2 libcurl jansson tree-sitter libseccomp"
grammars=$(ls "$top/$build"/grammar-obj/*/src/*.o)
cc -D_GNU_SOURCE -I"$top/include" -std=c11 -O2 $(pkg-config --cflags $pkgs) \
    -o "$top/$build/ctx-probe" "$here/probe.c" "$top/$build/libwarden.a" $grammars \
    $(pkg-config --libs $pkgs) -pthread -lm
python3 "$here/bench.py" --repo "$repo" --probe "$top/$build/ctx-probe" --cases "$cases"
