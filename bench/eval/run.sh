#!/bin/sh
# Oracle eval over real bug-fix instances of a C project (berry by default):
# --jobs 1 against --jobs 2 on this machine, side by side, each with a fresh
# warden cache (mirror, baselines) so neither run profits from the other.
#
#   bench/eval/run.sh [MIRROR] [COUNT]
#
# MIRROR: the project's git repository (default: berry fetched with the search
# tool's `fetch`, /work/.mirror/berry-lang+berry/repo). The dataset is derived
# once by derive.py into build/bench-eval/ (never committed) and reused.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
warden=${WARDEN:-$root/build/warden}
mirror=${1:-/work/.mirror/berry-lang+berry/repo}
count=${2:-30}
out=$root/build/bench-eval
mkdir -p "$out"
if [ ! -s "$out/dataset.jsonl" ]; then
	python3 "$root/bench/eval/derive.py" "$mirror" "$out/berry" "$out/dataset.jsonl" "$count"
fi
n=$(wc -l < "$out/dataset.jsonl")
echo "dataset: $n instances from $mirror"
for j in ${JOBS_ORDER:-1 2}; do
	rm -rf "$out/cache-j$j" "$out/results-j$j.jsonl"
	start=$(date +%s.%N)
	"$warden" eval "$out/dataset.jsonl" --model oracle --jobs "$j" --work-dir "$out/cache-j$j" \
		--out "$out/results-j$j.jsonl" > "$out/table-j$j.txt" 2> "$out/log-j$j.txt" || true
	end=$(date +%s.%N)
	echo "$start $end" | awk '{ printf "%.1f\n", $2 - $1 }' > "$out/wall-j$j.txt"
	awk -v j="$j" -v n="$n" '{ printf "jobs %s: wall %.1fs, %.1fs per instance\n", j, $1, $1 / n }' \
		"$out/wall-j$j.txt"
	tail -3 "$out/table-j$j.txt"
	# where the time goes, summed over the instances (ms -> s)
	jq -s '{prepare: (map(.time_ms.prepare) | add / 1000), context: (map(.time_ms.context) | add / 1000),
	        baseline: (map(.time_ms.baseline) | add / 1000), model: (map(.time_ms.model) | add / 1000),
	        grading: (map(.time_ms.grading) | add / 1000), build: (map(.time_ms.build) | add / 1000),
	        tests: (map(.time_ms.tests) | add / 1000), instance_wall: (map(.wall_ms) | add / 1000)}' \
		"$out/results-j$j.jsonl" > "$out/time-j$j.json"
	jq -c . "$out/time-j$j.json"
	jq -r 'select(.status != "resolved") | "  \(.instance_id): \(.status): \(.reason)"' \
		"$out/results-j$j.jsonl"
done
paste "$out/wall-j1.txt" "$out/wall-j2.txt" |
	awk '{ printf "speed-up of --jobs 2 over --jobs 1: %.2fx\n", $1 / $2 }'
