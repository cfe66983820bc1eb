#!/bin/sh
# warden map against ctags -R on one large source tree: cold, warm after
# touching one file, and peak memory. Nothing of the tree is committed.
#
# usage: bench/map/run.sh TREE [RUNS]
#   TREE  a directory of sources (e.g. from export-tree.sh, or Debian's
#         linux-source tarball unpacked)
#   RUNS  hyperfine runs per case (default 5)
# env:  WARDEN   the warden binary (default: ./warden, else build/warden)
#       CTAGS    the ctags binary (default: ctags; must be Universal Ctags)
#       BUDGET   warden map --budget (default 1024 tokens)
#       OUT      directory for the raw results (default: a temp dir, printed)
#       REUSE_CTAGS=1  keep the ctags timings (ctags.json, ctags.mem) already in OUT (ctags takes
#                minutes on a kernel tree and does not change between runs)
#       BASE     another warden binary (e.g. main's) timed in the same hyperfine sessions,
#                right after WARDEN in each case, for a side-by-side comparison; its tag
#                cache must be of another version or it shares WARDEN's
set -eu
tree=${1:?usage: bench/map/run.sh TREE [RUNS]}
runs=${2:-5}
tree=$(cd "$tree" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
warden=${WARDEN:-}
[ -n "$warden" ] || { [ -x "$here/warden" ] && warden="$here/warden" || warden="$here/build/warden"; }
ctags=${CTAGS:-ctags}
budget=${BUDGET:-1024}
out=${OUT:-$(mktemp -d /tmp/wd-bench-map.XXXXXX)}
cache="$out/cache"
mkdir -p "$out"

for tool in hyperfine /usr/bin/time python3 "$ctags"; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "missing $tool: apt-get install hyperfine time python3 universal-ctags" >&2; exit 2; }
done
"$ctags" --version | grep -q Universal || { echo "$ctags is not Universal Ctags" >&2; exit 2; }
[ -x "$warden" ] || { echo "no warden binary at $warden (make, or set WARDEN)" >&2; exit 2; }

# The files touched between warm runs: the largest .c file (the worst case: its
# re-parse is the slowest) and one of median size (the usual case).
victim=$(find "$tree" -name '*.c' -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
median=$(find "$tree" -name '*.c' -type f -printf '%s %p\n' | sort -n |
         awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }' | cut -d' ' -f2-)
cp "$victim" "$out/victim.orig"
cp "$median" "$out/median.orig"
trap 'cp "$out/victim.orig" "$victim"; cp "$out/median.orig" "$median"' EXIT

files=$(find "$tree" -type f -not -path '*/.git/*' | wc -l)
cfiles=$(find "$tree" -type f \( -name '*.c' -o -name '*.h' \) | wc -l)
clines=$(find "$tree" -type f \( -name '*.c' -o -name '*.h' \) -print0 | xargs -0 cat | wc -l)
echo "tree: $tree: $files files, $cfiles C files, $clines lines of C; $(nproc) cores"
echo "warden: $warden; $("$ctags" --version | head -1)"
echo "results in $out; warm runs change $victim (largest) or $median (median)"

export WARDEN_CACHE_DIR="$cache"
map="$warden map --repo $tree --budget $budget"
base=${BASE:-}
bmap=${base:+$base map --repo $tree --budget $budget}
# hyperfine arguments timing BASE too (same command, same output file), when it is set
also() { [ -z "$base" ] || printf '%s\n' -n "$1 (base)" "$bmap > $out/map-base.txt"; }

if [ "${REUSE_CTAGS:-0}" = 1 ] && [ -s "$out/ctags.json" ]; then
    echo "reusing $out/ctags.json"
else
    hyperfine --runs "$runs" --warmup 1 --export-json "$out/ctags.json" \
        -n "ctags -R" "$ctags -R -f $out/tags $tree"
    rm -f "$out/ctags.mem"
fi
# (the unquoted $(also ...) splits on newlines only: IFS is set around each call)
IFS='
'
hyperfine --runs "$runs" --export-json "$out/cold.json" \
    --prepare "rm -rf $cache" -n "warden map (cold)" "$map > $out/map.txt" $(also "cold")
# warm: each run follows a change to one file (a comment appended), so it re-parses one file
sh -c "$map" > /dev/null
[ -z "$base" ] || sh -c "$bmap" > /dev/null
hyperfine --runs "$runs" --export-json "$out/warm.json" \
    --prepare "echo '/* touched by bench */' >> $victim" -n "warden map (warm, 1 file changed)" \
    "$map > $out/map.txt" $(also "warm")
hyperfine --runs "$runs" --export-json "$out/warm-median.json" \
    --prepare "echo '/* touched by bench */' >> $median" -n "warden map (warm, 1 median file changed)" \
    "$map > $out/map.txt" $(also "warm, median")
hyperfine --runs "$runs" --export-json "$out/noop.json" \
    -n "warden map (warm, nothing changed)" "$map > $out/map.txt" $(also "noop")
unset IFS

# peak memory (max RSS) and CPU time of one run each
peak() { /usr/bin/time -f "%M %U %S" -o "$out/$1.time" sh -c "$2" >/dev/null 2>&1; cat "$out/$1.time"; }
[ -s "$out/ctags.mem" ] || peak ctags "$ctags -R -f $out/tags $tree" > "$out/ctags.mem"
rm -rf "$cache"
peak cold "$map" > "$out/cold.mem"
echo "/* touched by bench */" >> "$victim"
peak warm "$map" > "$out/warm.mem"
"$warden" map --repo "$tree" --budget "$budget" --stats 2>"$out/stats.txt" >/dev/null
if [ -n "$base" ]; then
    rm -rf "$cache"
    peak cold-base "$bmap" > "$out/cold-base.mem"
    echo "/* touched by bench */" >> "$victim"
    peak warm-base "$bmap" > "$out/warm-base.mem"
fi

python3 - "$out" "$base" <<'PY'
import json, sys
out, base = sys.argv[1], sys.argv[2]
def load(n, i):
    r = json.load(open(f"{out}/{n}.json"))["results"][i]
    return r["mean"], r["stddev"], r["user"], r["system"]
def mem(n):
    kb, u, s = open(f"{out}/{n}.mem").read().split()
    return int(kb) / 1024
cases = [("cold", "cold", "cold"), ("warm (largest .c file changed)", "warm", "warm"),
         ("warm (median .c file changed)", "warm-median", None),
         ("warm (nothing changed)", "noop", None)]
# (label, results key, memory file) for ctags, WARDEN, then BASE
rows = [("ctags -R", "ctags", 0, "ctags")]
for who, i, sfx in [("warden", 0, "")] + ([("base", 1, "-base")] if base else []):
    rows += [(f"{who} map, {c}", k, i, m and m + sfx) for c, k, m in cases]
res = {(k, i): load(k, i) for _, k, i, _ in rows}
print()
print("| case | wall mean ± sd (s) | user (s) | sys (s) | peak RSS (MiB) |")
print("|---|---|---|---|---|")
for label, k, i, m in rows:
    mean, sd, u, s = res[(k, i)]
    print(f"| {label} | {mean:.3f} ± {sd:.3f} | {u:.3f} | {s:.3f} | {mem(m):.0f} |" if m else
          f"| {label} | {mean:.3f} ± {sd:.3f} | {u:.3f} | {s:.3f} | |")
ct = res[("ctags", 0)]
for who, i in [("warden", 0)] + ([("base", 1)] if base else []):
    cold, warm, med = res[("cold", i)], res[("warm", i)], res[("warm-median", i)]
    print()
    print(f"{who}: cold / ctags (wall): {cold[0] / ct[0]:.2f}x   (goal <= 4x)")
    print(f"{who}: cold / ctags (cpu):  {(cold[2] + cold[3]) / (ct[2] + ct[3]):.2f}x")
    print(f"{who}: warm / cold (wall):  {100 * warm[0] / cold[0]:.1f}% with the largest file changed, "
          f"{100 * med[0] / cold[0]:.1f}% with a median one   (goal <= 5%)")
print(open(f"{out}/stats.txt").read().strip())
PY
