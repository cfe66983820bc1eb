#!/bin/sh
# warden log / stats / log --reindex over N generated runs (default 10000),
# side by side with what a user would do instead: jq over the JSONL ledgers.
# Also the ledger's size per run (JSONL + blobs) of the bundled demo run.
#
# usage: bench/ledger/run.sh [N] [RUNS]
# env:   WARDEN (default build/warden), OUT (default a temp dir, printed),
#        BEFORE (optional: an older warden to time side by side, on its own
#        copy of the cache, e.g. one built from the commit before a change)
set -eu
n=${1:-10000}
runs=${2:-10}
here=$(cd "$(dirname "$0")/../.." && pwd)
warden=${WARDEN:-$here/build/warden}
out=${OUT:-$(mktemp -d /tmp/wd-bench-ledger.XXXXXX)}
for tool in hyperfine jq python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool: apt-get install $tool" >&2; exit 2; }
done
echo "bench: results in $out"

# A real run (the bundled demo: 2 rounds, replayed model) as the template.
demo="$out/demo"
rm -rf "$demo"; mkdir -p "$demo"
"$here/build/tools/mkrepo" "$demo/stats" "$here/examples/stats" >/dev/null
"$warden" run --repo "$demo/stats" --ticket "$here/examples/tickets/median-even.md" \
    --model "replay:$here/examples/replay/median-even.jsonl" --work-dir "$demo/cache" \
    --quiet --json > "$demo/result.json" || true
ledger=$(sed -n 's/.*"ledger":"\([^"]*\)".*/\1/p' "$demo/result.json")
jsonl=$(stat -c %s "$ledger")
blobs=$(du -sb "$demo/cache/ledger/blobs" | cut -f1)
nblobs=$(find "$demo/cache/ledger/blobs" -type f | wc -l)
echo "ledger size per run (demo, 2 rounds): JSONL $jsonl bytes, $nblobs blobs $blobs bytes"

cache="$out/cache"
rm -rf "$cache"; mkdir -p "$cache"
python3 "$here/bench/ledger/gen.py" "$ledger" "$cache" "$n"
echo "generated $n ledgers: $(du -sh "$cache/ledger" | cut -f1)"
rm -f "$cache/index.sqlite"*
echo "index rebuild from the JSONL (first 'warden log --reindex'):"
/usr/bin/time -f "  %e s, %M KiB peak" "$warden" log --reindex --work-dir "$cache" > /dev/null

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
set -- -n "warden log" "$warden log --work-dir $cache" \
    -n "warden log --json" "$warden log --json --work-dir $cache" \
    -n "warden stats" "$warden stats --work-dir $cache" \
    -n "warden stats --by model" "$warden stats --by model --work-dir $cache"
if [ -n "${BEFORE:-}" ]; then
    rm -rf "$out/cache-before"; cp -a "$cache" "$out/cache-before"
    rm -f "$out/cache-before/index.sqlite"*
    "$BEFORE" log --work-dir "$out/cache-before" > /dev/null
    set -- "$@" -n "before: warden log" "$BEFORE log --work-dir $out/cache-before" \
        -n "before: warden stats" "$BEFORE stats --work-dir $out/cache-before"
fi
hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/log.json" "$@"
hyperfine --warmup 1 --runs 3 --export-json "$out/jq.json" \
    -n "jq: one line per run" "jq -c 'select(.type==\"run.end\") | [.run, .status, .rounds, .cost_usd, .ms]' $cache/ledger/*.jsonl > /dev/null" \
    -n "jq: completion rate" "jq -s '[.[] | select(.type==\"run.end\")] | (map(select(.status==\"proposed\")) | length) / length' $cache/ledger/*.jsonl > /dev/null"
hyperfine -N --runs 3 --prepare "rm -f $cache/index.sqlite $cache/index.sqlite-wal $cache/index.sqlite-shm" \
    --export-json "$out/reindex.json" -n "warden log --reindex (from nothing)" \
    "$warden log --reindex --work-dir $cache"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
r = {}
cpu = {}
for f in ("log", "jq", "reindex"):
    for x in json.load(open(f"{out}/{f}.json"))["results"]:
        r[x["command"]] = x["mean"]
        cpu[x["command"]] = x["user"] + x["system"]
# wall time on a shared machine is mostly waiting for a core: CPU time beside it
print(f"{'':40s} {'wall':>9s}    {'CPU':>9s}")
for k, v in r.items():
    print(f"{k:40s} {v * 1000:9.1f} ms {cpu[k] * 1000:9.1f} ms")
print(f"ratio jq one-line-per-run / warden log: {r['jq: one line per run'] / r['warden log']:.1f}x")
print(f"ratio jq completion rate / warden stats: {r['jq: completion rate'] / r['warden stats']:.1f}x")
for k in ("log", "stats"):
    if f"before: warden {k}" in r:
        print(f"ratio before / now, warden {k}: wall {r[f'before: warden {k}'] / r[f'warden {k}']:.1f}x,"
              f" CPU {cpu[f'before: warden {k}'] / cpu[f'warden {k}']:.1f}x")
PY
