#!/bin/sh
# Two warden binaries, one run each in turn, on one case: CPU time (perf
# stat's task-clock, the front end and warden-map together) and wall time
# per run, medians and minimums, and whether their maps were the same.
# On a shared machine hyperfine's runs of one binary then the other's meet
# different loads; alternating runs meet the same.
#
# usage: bench/map/alternate.sh NEW BASE TREE ROUNDS CASE
#   CASE  noop (nothing changed), large (a comment appended to the largest .c
#         file before each run), median (to the .c file of median size), cold
#         (the cache emptied before each run)
# env:  CACHE  the cache directory (default /tmp/wd-bench-alt-cache); NEW and
#         BASE must keep caches of different versions in it, or share one
set -eu
new=$1 base=$2 tree=$3 rounds=$4 case=$5
cache=${CACHE:-/tmp/wd-bench-alt-cache}
export WARDEN_CACHE_DIR="$cache"
out=$(mktemp -d /tmp/wd-bench-alt.XXXXXX)
large=$(find "$tree" -name '*.c' -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
median=$(find "$tree" -name '*.c' -type f -printf '%s %p\n' | sort -n |
         awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }' | cut -d' ' -f2-)
cp "$large" "$out/large.orig"
cp "$median" "$out/median.orig"
trap 'cp "$out/large.orig" "$large"; cp "$out/median.orig" "$median"; rm -rf "$out"' EXIT
if [ "$case" != cold ]; then
    "$new" map --repo "$tree" --budget 1024 > /dev/null
    "$base" map --repo "$tree" --budget 1024 > /dev/null
fi
for i in $(seq "$rounds"); do
    for who in new base; do
        eval bin=\$$who
        case $case in
        large) echo '/* touched by bench */' >> "$large" ;;
        median) echo '/* touched by bench */' >> "$median" ;;
        cold) rm -rf "$cache" ;;
        esac
        t0=$(date +%s%N)
        perf stat -x, -e task-clock -o "$out/stat" "$bin" map --repo "$tree" --budget 1024 > "$out/map-$who.txt"
        t1=$(date +%s%N)
        echo "$who $(grep task-clock "$out/stat" | cut -d, -f1) $(( (t1 - t0) / 1000 ))"
    done
done | python3 -c '
import statistics as st, sys
d = {}
for line in sys.stdin:
    who, cpu, wall = line.split()
    d.setdefault(who, []).append((float(cpu), int(wall) / 1000))
for who in ("new", "base"):
    cpu = [x[0] for x in d[who]]; wall = [x[1] for x in d[who]]
    print(f"{who}: CPU median {st.median(cpu):.1f} ms (min {min(cpu):.1f}), "
          f"wall median {st.median(wall):.1f} ms (min {min(wall):.1f}), {len(cpu)} runs")
ratio = st.median([x[0] for x in d["new"]]) / st.median([x[0] for x in d["base"]])
print(f"new / base, CPU medians: {ratio:.3f}")
'
cmp -s "$out/map-new.txt" "$out/map-base.txt" && echo "the last maps are the same" || echo "the last maps DIFFER"
