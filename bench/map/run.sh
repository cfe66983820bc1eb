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

if [ "${REUSE_CTAGS:-0}" = 1 ] && [ -s "$out/ctags.json" ]; then
    echo "reusing $out/ctags.json"
else
    hyperfine --runs "$runs" --warmup 1 --export-json "$out/ctags.json" \
        -n "ctags -R" "$ctags -R -f $out/tags $tree"
    rm -f "$out/ctags.mem"
fi
hyperfine --runs "$runs" --export-json "$out/cold.json" \
    --prepare "rm -rf $cache" -n "warden map (cold)" "$map > $out/map.txt"
# warm: each run follows a change to one file (a comment appended), so it re-parses one file
$map > /dev/null
hyperfine --runs "$runs" --export-json "$out/warm.json" \
    --prepare "echo '/* touched by bench */' >> $victim" -n "warden map (warm, 1 file changed)" \
    "$map > $out/map.txt"
hyperfine --runs "$runs" --export-json "$out/warm-median.json" \
    --prepare "echo '/* touched by bench */' >> $median" -n "warden map (warm, 1 median file changed)" \
    "$map > $out/map.txt"
hyperfine --runs "$runs" --export-json "$out/noop.json" \
    -n "warden map (warm, nothing changed)" "$map > $out/map.txt"

# peak memory (max RSS) and CPU time of one run each
peak() { /usr/bin/time -f "%M %U %S" -o "$out/$1.time" sh -c "$2" >/dev/null 2>&1; cat "$out/$1.time"; }
[ -s "$out/ctags.mem" ] || peak ctags "$ctags -R -f $out/tags $tree" > "$out/ctags.mem"
rm -rf "$cache"
peak cold "$map" > "$out/cold.mem"
echo "/* touched by bench */" >> "$victim"
peak warm "$map" > "$out/warm.mem"
"$warden" map --repo "$tree" --budget "$budget" --stats 2>"$out/stats.txt" >/dev/null

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def load(n):
    r = json.load(open(f"{out}/{n}.json"))["results"][0]
    return r["mean"], r["stddev"], r["user"], r["system"]
def mem(n):
    kb, u, s = open(f"{out}/{n}.mem").read().split()
    return int(kb) / 1024
rows = [("ctags -R", "ctags", "ctags"), ("warden map, cold", "cold", "cold"),
        ("warden map, warm (largest .c file changed)", "warm", "warm"),
        ("warden map, warm (median .c file changed)", "warm-median", None),
        ("warden map, warm (nothing changed)", "noop", None)]
res = {k: load(k) for _, k, _ in rows}
print()
print("| case | wall mean ± sd (s) | user (s) | sys (s) | peak RSS (MiB) |")
print("|---|---|---|---|---|")
for label, k, m in rows:
    mean, sd, u, s = res[k]
    print(f"| {label} | {mean:.3f} ± {sd:.3f} | {u:.3f} | {s:.3f} | {mem(m):.0f} |" if m else
          f"| {label} | {mean:.3f} ± {sd:.3f} | {u:.3f} | {s:.3f} | |")
print()
print(f"cold / ctags (wall): {res['cold'][0] / res['ctags'][0]:.2f}x   (goal <= 4x)")
print(f"cold / ctags (cpu):  {(res['cold'][2] + res['cold'][3]) / (res['ctags'][2] + res['ctags'][3]):.2f}x")
print(f"warm / cold (wall):  {100 * res['warm'][0] / res['cold'][0]:.1f}% with the largest file changed, "
      f"{100 * res['warm-median'][0] / res['cold'][0]:.1f}% with a median one   (goal <= 5%)")
print(open(f"{out}/stats.txt").read().strip())
PY
