#!/bin/sh
# The model's grep tool against GNU grep on git.git's tree, side by side.
#   sh bench/tools/run.sh [ROUNDS]      (default 5; needs the mirror below)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
mirror=${GIT_MIRROR:-/work/.mirror/git+git/repo}
tree=${TMPDIR:-/tmp}/warden-bench-tools-tree
rounds=${1:-5}

make -C "$here" -j2 build/libwarden.a >/dev/null
cc -D_GNU_SOURCE -I"$here/include" -O2 -o "${TMPDIR:-/tmp}/warden-grep-bench" \
   "$here/bench/tools/grep_bench.c" "$here/build/libwarden.a" "$here"/build/grammar-obj/*/src/*.o \
   $(pkg-config --libs libgit2 libcurl jansson tree-sitter libseccomp sqlite3) -lm -pthread
if [ ! -d "$tree" ]; then
	mkdir -p "$tree"
	git --git-dir="$mirror" archive HEAD | tar -x -C "$tree"
fi
"${TMPDIR:-/tmp}/warden-grep-bench" "$tree" "$rounds" \
	'xyzzy_not_there' 'strbuf_addf\(' '^static int [a-z_]+_config\(' '(a|b)+c{2,4}d'
