#!/bin/sh
# Run every Check test binary in DIR, show each one's output, and close with
# one total line "N passed, N failed" summed over Check's own summaries.
# A binary that crashes or prints no summary counts as one failure.
set -u
dir=${1:-build/tests}
: "${CK_DEFAULT_TIMEOUT:=120}"
export CK_DEFAULT_TIMEOUT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
here=$(cd "$(dirname "$0")" && pwd)
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
total_pass=0
total_fail=0
bad=""
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    log=$(mktemp)
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -1)
    if [ -n "$line" ]; then
        checks=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        fails=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
        errs=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
        f=$((fails + errs))
        total_pass=$((total_pass + checks - f))
        total_fail=$((total_fail + f))
        if [ "$f" -eq 0 ] && [ "$rc" -ne 0 ]; then
            # all tests passed but the binary still failed (a leak report at exit)
            total_fail=$((total_fail + 1)); bad="$bad $name(exit $rc)"
        elif [ "$f" -ne 0 ]; then
            bad="$bad $name"
        fi
    else
        total_fail=$((total_fail + 1))
        bad="$bad $name(no summary, exit $rc)"
    fi
    rm -f "$log"
done
[ -n "$bad" ] && echo "failing:$bad"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
