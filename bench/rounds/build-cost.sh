#!/bin/sh
# What the checks' world costs a build: berry's `make -j2` bare, in the
# sandbox on a plain work tree, and in the sandbox over an overlay (what a
# warden round runs on), side by side in one hyperfine run; first a full
# build, then an incremental one after one source file changed (a round).
#
# usage: bench/rounds/build-cost.sh CORPUS [RUNS]
#   CORPUS  berry's git repository (path or URL); cloned into OUT, never committed
#   RUNS    hyperfine runs per command (default 3)
# env:  WARDEN, TIP, OUT as for run.sh; FILE the source file a round changes
#       (default src/be_byteslib.c); PART full, incremental or both (default)
set -eu
# One toolchain for both sides: the sandbox hides a home directory, so a
# checked command never finds a python3 (berry's generator) or compiler in
# ~/.pyenv, ~/.local or the like, while the same command by hand would (a
# pyenv shim costs ~0.8 s of CPU per call). BENCH_PATH overrides.
PATH=${BENCH_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
export PATH
corpus=${1:?usage: bench/rounds/build-cost.sh CORPUS [RUNS]}
runs=${2:-3}
here=$(cd "$(dirname "$0")/../.." && pwd)
warden=${WARDEN:-}
[ -n "$warden" ] || { [ -x "$here/warden" ] && warden="$here/warden" || warden="$here/build/warden"; }
file=${FILE:-src/be_byteslib.c}
part=${PART:-both}
case $part in full|incremental|both) ;; *) echo "PART must be full, incremental or both" >&2; exit 2 ;; esac
out=${OUT:-$(mktemp -d /tmp/wd-bench-build.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
command -v hyperfine >/dev/null 2>&1 || { echo "missing hyperfine: apt-get install hyperfine" >&2; exit 2; }
[ -x "$warden" ] || { echo "no warden binary at $warden" >&2; exit 2; }

t="$out/tree" u="$out/upper" w="$out/ovl-work" in="$out/inside"
rm -rf "$t" "$u" "$w" "$in"
git clone -q "$corpus" "$t"
git -C "$t" checkout -q "${TIP:-HEAD}"
mkdir -p "$in"
[ -f "$t/$file" ] || { echo "no $file in the tree" >&2; exit 2; }
echo "results in $out; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

clean="git -C $t clean -fdxq"
fresh="rm -rf $u $w && mkdir $u $w"
sbx="$warden sandbox --workdir $t --"
ovl="$warden sandbox --overlay $t --upper $u --overlay-work $w --inside $in --"

# Full build: nothing built yet (bare and sandboxed build in the tree; the
# overlay's build lands in its upper layer, the tree stays clean).
[ "$part" = incremental ] || hyperfine -N --runs "$runs" --export-json "$out/full.json" \
    --prepare "$clean" --prepare "$clean" --prepare "sh -c '$clean && $fresh'" \
    -n "full: bare" "make -C $t -j2" \
    -n "full: sandbox" "$sbx make -j2" \
    -n "full: sandbox+overlay" "$ovl make -j2"

# Incremental: the tree is built; one file changes (new mtime), as in a round.
# Every run starts from the same built tree (a copy, mtimes kept): berry's
# generator rewrites generate/be_fixed_*.h on every build, so a second rebuild
# in the same tree recompiles the ~18 files that include them. In the overlay
# case the built tree is the lower layer and the changed file is written into
# a fresh upper one, as warden writes a round's patch.
[ "$part" = full ] && exit 0
make -C "$t" -j2 >/dev/null 2>&1
rm -rf "$t.built" && cp -a "$t" "$t.built"
d=$(dirname "$file")
again="rm -rf $t && cp -a $t.built $t && touch $t/$file"
hyperfine -N --runs "$runs" --export-json "$out/incremental.json" \
    --prepare "sh -c '$again'" --prepare "sh -c '$again'" \
    --prepare "sh -c '$again && $fresh && mkdir -p $u/$d && cp $t/$file $u/$file && touch $u/$file'" \
    -n "incremental: bare" "make -C $t -j2" \
    -n "incremental: sandbox" "$sbx make -j2" \
    -n "incremental: sandbox+overlay" "$ovl make -j2"
