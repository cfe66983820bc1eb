#!/bin/sh
# warden scan (the data policy plus the whole redactor over every file of
# HEAD) against what a user would do instead: git grep with a list of secret
# patterns, over the same tree. Side by side in one hyperfine run; prints
# the ratio and what each found. Nothing of the tree is committed.
#
# usage: bench/scan/run.sh REPO [RUNS]
#   REPO  a git work tree (e.g. a clone of a public repository)
#   RUNS  hyperfine runs per command (default 10)
# env:  WARDEN  the warden binary (default: ./warden, else build/warden)
#       OUT     directory for the raw results (default: a temp dir, printed)
set -eu
repo=${1:?usage: bench/scan/run.sh REPO [RUNS]}
runs=${2:-10}
repo=$(cd "$repo" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
warden=${WARDEN:-}
[ -n "$warden" ] || { [ -x "$here/warden" ] && warden="$here/warden" || warden="$here/build/warden"; }
out=${OUT:-$(mktemp -d /tmp/wd-bench-scan.XXXXXX)}
mkdir -p "$out"
for tool in hyperfine git python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool" >&2; exit 2; }
done
[ -x "$warden" ] || { echo "no warden binary at $warden (make, or set WARDEN)" >&2; exit 2; }

# The patterns a careful user greps for before pasting code into a chat.
cat > "$out/patterns" <<'PAT'
-----BEGIN [A-Z ]*PRIVATE KEY-----
AKIA[0-9A-Z]{16}
gh[pousr]_[0-9A-Za-z]{20,}
glpat-[0-9A-Za-z_-]{20,}
xox[abposre]-[0-9A-Za-z-]{10,}
AIza[0-9A-Za-z_-]{35}
sk-[0-9A-Za-z_-]{20,}
eyJ[0-9A-Za-z_-]+\.eyJ[0-9A-Za-z_-]+\.[0-9A-Za-z_-]+
[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd] *[:=]
[Ss][Ee][Cc][Rr][Ee][Tt] *[:=]
[Tt][Oo][Kk][Ee][Nn] *[:=]
://[^/ :@]+:[^/ @]+@
PAT
files=$(git -C "$repo" ls-files | wc -l)
bytes=$(git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 cat 2>/dev/null) | wc -c)
echo "repo: $repo at $(git -C "$repo" rev-parse --short HEAD): $files files, $bytes bytes; $(nproc) cores"

export WARDEN_CONFIG=/dev/null
hyperfine --warmup 2 --runs "$runs" --export-json "$out/hyperfine.json" \
    -n "warden scan" "$warden scan --repo '$repo' --json > /dev/null" \
    -n "git grep (12 patterns)" "git -C '$repo' grep -nIE -f '$out/patterns' HEAD > /dev/null || true"

"$warden" scan --repo "$repo" --json > "$out/scan.json"
git -C "$repo" grep -nIE -f "$out/patterns" HEAD > "$out/grep.txt" || true
python3 - "$out" <<'PY'
import collections, json, sys
out = sys.argv[1]
h = json.load(open(out + "/hyperfine.json"))["results"]
t = {r["command"]: r["mean"] for r in h}
s = json.load(open(out + "/scan.json"))
rules = collections.Counter(f["rule"] for f in s["findings"])
grep = sum(1 for _ in open(out + "/grep.txt"))
print("warden scan: %.1f ms mean; %d files, %d denied by policy, %d findings %s"
      % (t["warden scan"] * 1e3, s["files"], len(s["denied"]), len(s["findings"]), dict(rules)))
print("git grep:    %.1f ms mean; %d matching lines (no rule, no line-level judgement)"
      % (t["git grep (12 patterns)"] * 1e3, grep))
print("ratio warden/grep: %.2f" % (t["warden scan"] / t["git grep (12 patterns)"]))
PY
echo "raw results in $out"
