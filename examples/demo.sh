#!/bin/sh
# The bundled demo: a real small C project (examples/stats) with a real bug
# (the median of an even-length sample is wrong) and a test that catches it.
# warden takes the ticket from clone to a gated commit on a review branch,
# with recorded model replies (replay:), so no API key is needed.
#
# Round 1's patch averages in integer arithmetic and fails `make test`; the
# failure summary goes back to the model; round 2's patch passes and is
# committed on a warden/... branch that is added to the demo repository.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WARDEN=${WARDEN:-$BUILD/warden}
demo=$BUILD/demo
rm -rf "$demo"
mkdir -p "$demo"
"$BUILD/tools/mkrepo" "$demo/stats" examples/stats
echo "demo: made $demo/stats, a git repository of examples/stats"
echo "demo: running warden (replayed model, checks in the sandbox)"
set +e
"$WARDEN" run --repo "$demo/stats" \
    --ticket examples/tickets/median-even.md \
    --model replay:examples/replay/median-even.jsonl \
    --work-dir "$demo/cache" --json > "$demo/result.json"
rc=$?
set -e
echo "demo: warden exited $rc; result:"
cat "$demo/result.json"
if [ "$rc" -eq 0 ]; then
    echo "demo: the proposal, as a reviewer sees it:"
    "$WARDEN" review show --work-dir "$demo/cache" \
        "$(sed -n 's/.*"run_id": *"\([0-9a-f]*\)".*/\1/p' "$demo/result.json")" || true
fi
exit "$rc"
