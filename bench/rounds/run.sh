#!/bin/sh
# Repair rounds: `warden run` against the same work done by hand, side by side
# in one run, on a real C project (berry), with a model on loopback that is
# wrong once and right once. Nothing of the project is committed: it is cloned
# from CORPUS into OUT at run time, and so are both patches.
#
# usage: bench/rounds/run.sh CORPUS [RUNS]
#   CORPUS  berry's git repository: a path or URL (e.g. the bare clone the
#           search tool's fetch gives for github:berry-lang/berry)
#   RUNS    measured runs of each of the four variants (default 5)
# env:  WARDEN  the warden binary (default: ./warden, else build/warden)
#       TIP     the commit the bench starts from (default: CORPUS's HEAD)
#       FIX     berry's fix the ticket asks for (default 26485d1, "Fix sign
#               extension for 3-byte signed bytes().geti()"); an ancestor of TIP
#       OUT     directory for clones, caches, logs and times.tsv (default: a
#               temp dir, printed; kept)
#
# The ticket (ticket.md) names two checks, `make -j2` and a loop over berry's
# tests/*.be; by hand runs exactly those commands with sh -c. The base is TIP
# with FIX's change reverted (a commit made here); the right patch is FIX's
# change, the wrong one the same with the big-endian case left unfixed, so
# tests/bytes.be fails once.
#
# Four variants, interleaved run by run (their order alternates):
#   hand-cold    clone; apply the wrong patch; full build; test (fails);
#                git checkout -- .; apply the right patch; incremental build;
#                test (passes); commit
#   warden-cold  warden run with a fresh --work-dir: mirror, baseline (full
#                build and tests), round 1, round 2, commit, publish
#   hand-warm    the same by hand in a checkout where the base is already built
#                (a copy of one built at set-up, made outside the timing)
#   warden-warm  warden run with a --work-dir holding the mirror and the cached
#                baseline (results and built layer) of an earlier run
set -eu
# One toolchain for both sides: the sandbox hides a home directory, so a
# checked command never finds a python3 (berry's generator) or compiler in
# ~/.pyenv, ~/.local or the like, while the same command by hand would (a
# pyenv shim costs ~0.8 s of CPU per call). BENCH_PATH overrides.
PATH=${BENCH_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
export PATH
corpus=${1:?usage: bench/rounds/run.sh CORPUS [RUNS]}
runs=${2:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
bench="$here/bench/rounds"
warden=${WARDEN:-}
[ -n "$warden" ] || { [ -x "$here/warden" ] && warden="$here/warden" || warden="$here/build/warden"; }
fix=${FIX:-26485d1}
out=${OUT:-$(mktemp -d /tmp/wd-bench-rounds.XXXXXX)}
mkdir -p "$out/log"
out=$(cd "$out" && pwd)
tsv="$out/times.tsv"
: > "$tsv"

die() { echo "bench/rounds: $*" >&2; exit 2; }
for tool in git python3 make cc; do
    command -v "$tool" >/dev/null 2>&1 || die "missing $tool"
done
[ -x "$warden" ] || die "no warden binary at $warden (make, or set WARDEN)"
case $runs in ''|*[!0-9]*|0) die "RUNS must be a positive number, not '$runs'" ;; esac

# The checks, from the ticket: one source for warden and for the hand.
build=$(sed -n 's/^- build: //p' "$bench/ticket.md")
test=$(sed -n 's/^- test: //p' "$bench/ticket.md")
if [ -z "$build" ] || [ -z "$test" ]; then
    die "ticket.md lost its '- build:' or '- test:' line"
fi

now_ms() { date +%s%3N; }
# CPU time (user + system, ms) of every child this shell has waited for, as
# `times > "$out/times.now"` wrote it: that builtin must run in this shell,
# not in a subshell, whose counts start from zero.
cpu_ms() {
    sed -n 2p "$out/times.now" | tr 'ms' '  ' |
        awk '{ printf "%d\n", ($1 * 60 + $2 + $3 * 60 + $4) * 1000 }'
}

echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "warden: $warden"
"$warden" sandbox --probe | sed 's/^/probe: /'
echo "results in $out"

# --- set-up: the source repository, the base, both patches -------------------
src="$out/src"
rm -rf "$src" "$out/scratch"
git clone -q --no-checkout "$corpus" "$src"
tip=$(git -C "$src" rev-parse --verify "${TIP:-HEAD}^{commit}")
fix=$(git -C "$src" rev-parse --verify "$fix^{commit}") || die "no commit $FIX in $corpus"
git -C "$src" merge-base --is-ancestor "$fix" "$tip" || die "$fix is not an ancestor of $tip"
git -C "$src" checkout -q -b bench "$tip"
git -C "$src" diff "$fix^" "$fix" -- src > "$out/fix-code.patch"
git -C "$src" apply -R "$out/fix-code.patch" || die "$fix's change does not revert cleanly on $tip"
git -C "$src" diff "$fix^" "$fix" -- tests > "$out/fix-tests.patch"
git -C "$src" apply -R "$out/fix-tests.patch" || die "$fix's tests do not revert cleanly on $tip"
GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' \
    git -C "$src" -c user.name=bench -c user.email=bench@localhost \
    commit -qam "bench: the bug that $(git -C "$src" rev-parse --short "$fix") fixed"
base=$(git -C "$src" rev-parse HEAD)
git -C "$src" diff "$base" "$tip" > "$out/right.patch"
git clone -q "$src" "$out/scratch"
git -C "$out/scratch" checkout -q "$tip"
awk '/sign && \(ret & 0x800000\)/ { n++; if (n == 2) sub(/sign && /, "sign \\& ") } { print }' \
    "$out/scratch/src/be_byteslib.c" > "$out/scratch/x"
mv "$out/scratch/x" "$out/scratch/src/be_byteslib.c"
git -C "$out/scratch" diff "$base" > "$out/wrong.patch"
rm -rf "$out/scratch"
cmp -s "$out/wrong.patch" "$out/right.patch" && die "the wrong patch came out right: is $fix the geti fix?"
[ -s "$out/right.patch" ] || die "empty right patch"
printf '[user]\n\tname = bench\n\temail = bench@localhost\n' > "$out/config"
echo "base $base ($tip with $fix reverted); right patch $(wc -l < "$out/right.patch") lines, wrong $(wc -l < "$out/wrong.patch")"
echo "checks: build: $build"
echo "        test:  $test"

# --- the model on loopback ---------------------------------------------------
rm -f "$out/port"
python3 "$bench/model.py" --wrong "$out/wrong.patch" --right "$out/right.patch" \
    --port-file "$out/port" --log "$out/log/model.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -s "$out/port" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || die "the model server did not start"
    kill -0 "$server" 2>/dev/null || die "the model server exited"
    sleep 0.1
done
model="compat:http://127.0.0.1:$(cat "$out/port")/v1#bench"

# --- one run of each variant --------------------------------------------------
# stage NAME CMD...: run CMD, log its output, append its time to times.tsv
stage() {
    name=$1; shift
    t0=$(now_ms)
    if "$@" >> "$log" 2>&1; then st=0; else st=$?; fi
    echo "$run	$variant	$name	$(( $(now_ms) - t0 ))" >> "$tsv"
    return $st
}

hand() {
    variant=hand-$1 log="$out/log/hand-$1-$run.log" d="$out/hand-$1"
    rm -rf "$d"
    # a copy has new inodes and ctimes: refresh the index, as the developer's
    # own checkout would be, or `git checkout -- .` rewrites every file
    if [ "$1" = warm ]; then
        cp -a "$out/hand-base" "$d" || die "cannot copy the built checkout"
        git -C "$d" update-index -q --refresh || die "cannot refresh the copy's index"
    fi
    times > "$out/times.now"; c0=$(cpu_ms)
    t_start=$(now_ms)
    [ "$1" = cold ] && { stage clone git clone -q -b bench "$src" "$d" || die "clone failed"; }
    cd "$d"
    stage apply1 git apply "$out/wrong.patch" || die "the wrong patch does not apply ($log)"
    stage build1 sh -c "$build" || die "build 1 failed ($log)"
    stage check1 sh -c "$test" && die "the wrong patch passed the tests ($log)"
    stage revert git checkout -q -- . || die "revert failed ($log)"
    stage apply2 git apply "$out/right.patch" || die "the right patch does not apply ($log)"
    stage build2 sh -c "$build" || die "build 2 failed ($log)"
    stage check2 sh -c "$test" || die "the right patch failed the tests ($log)"
    stage commit git -c user.name=bench -c user.email=bench@localhost commit -qam "bytes: sign-extend 3-byte geti" ||
        die "commit failed ($log)"
    echo "$run	$variant	total	$(( $(now_ms) - t_start ))" >> "$tsv"
    times > "$out/times.now"; c1=$(cpu_ms)
    echo "$run	$variant	cpu	$(( c1 - c0 ))" >> "$tsv"
    cd "$out"
}

warden_run() {
    variant=warden-$1 cache="$out/cache-$1" res="$out/log/warden-$1-$run.json"
    [ "$1" = cold ] && rm -rf "$cache"
    times > "$out/times.now"; c0=$(cpu_ms)
    t0=$(now_ms)
    WARDEN_CONFIG="$out/config" "$warden" run --repo "$src" --base "$base" \
        --ticket "$bench/ticket.md" --model "$model" --work-dir "$cache" --json \
        > "$res" 2> "$out/log/warden-$1-$run.err" || true
    t1=$(now_ms)
    times > "$out/times.now"; c1=$(cpu_ms)
    python3 "$bench/report.py" warden "$res" "$run" "$variant" "$t0" "$t1" >> "$tsv" ||
        die "warden did not propose ($out/log/warden-$1-$run.err)"
    echo "$run	$variant	cpu	$(( c1 - c0 ))" >> "$tsv"
}

# Set-up, untimed: the built checkout the warm hand starts from, and the warm
# cache (mirror, baseline results and built layer).
run=setup log="$out/log/setup.log"
rm -rf "$out/hand-base" "$out/cache-warm"
git clone -q -b bench "$src" "$out/hand-base"
(cd "$out/hand-base" && sh -c "$build") >> "$log" 2>&1 || die "the base does not build ($log)"
(cd "$out/hand-base" && sh -c "$test") >> "$log" 2>&1 || die "the base fails its tests ($log)"
tsv_main=$tsv tsv="$out/setup.tsv"
warden_run warm
tsv=$tsv_main
echo "set-up done; $runs runs of each variant"

for run in $(seq 1 "$runs"); do
    if [ $((run % 2)) = 1 ]; then
        hand cold; warden_run cold; hand warm; warden_run warm
    else
        warden_run cold; hand cold; warden_run warm; hand warm
    fi
    echo "run $run done"
done

python3 "$bench/report.py" summary "$tsv" | tee "$out/summary.txt"
