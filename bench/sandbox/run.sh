#!/bin/sh
# Time the sandbox, side by side in one hyperfine run:
#   warden sandbox -- true          every layer on (strict policy)
#   bwrap --unshare-all ... true    bubblewrap's usual confinement, no limits
#   bwrap (allow-list root) true    bubblewrap building a root like warden's:
#                                   the system directories, /sys, private tmp
#   true                            the bare command
#   warden --version                warden's own start-up (loader + libraries), for reference
# then the in-process cost of wd_sandbox_run("true"), which is what the gate
# pays per check (it calls the library; it does not start warden again).
#
#   sh bench/sandbox/run.sh [BUILD_DIR] [RUNS]     (default: build, 300)
# Needs hyperfine and bwrap (apt-get install hyperfine bubblewrap).
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build}
runs=${2:-300}
warden="$PWD/$build/warden"
out="$PWD/$build/bench-sandbox"
mkdir -p "$out"

command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }
command -v bwrap >/dev/null || { echo "bwrap (bubblewrap) is not installed" >&2; exit 2; }
[ -x "$warden" ] || make BUILD="$build" "$build/warden" >/dev/null

# what this machine supports: the figures mean "all layers" only if every line says yes
"$warden" sandbox --probe

# bwrap with a root like warden's allow-list (links kept as links)
allow="bwrap --unshare-all"
for d in /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc /opt /nix /gnu /snap; do
    if [ -L "$d" ]; then
        allow="$allow --symlink $(readlink "$d") $d"
    elif [ -d "$d" ]; then
        allow="$allow --ro-bind $d $d"
    fi
done
allow="$allow --ro-bind /sys /sys --dev /dev --proc /proc --tmpfs /tmp --tmpfs /var/tmp true"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
hyperfine -N --warmup 20 --runs "$runs" \
    --export-markdown "$out/cli.md" --export-json "$out/cli.json" \
    "$warden sandbox -- true" \
    "bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true" \
    "$allow" \
    "true" \
    "$warden --version"
echo
echo "medians (ms):"
python3 - "$out/cli.json" <<'PY' 2>/dev/null || true
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("  %8.2f  %s" % (r["median"] * 1000, r["command"]))
PY

# CPU time (task-clock, the process and its children): unlike wall time it
# hardly moves when other jobs load the machine
if command -v perf >/dev/null 2>&1; then
    echo
    echo "CPU time per run (perf stat -r 50, task-clock of the whole process tree):"
    for c in "$warden sandbox -- true" \
             "bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true" \
             "$allow" "$warden sandbox --help" "$warden --version"; do
        ms=$(perf stat -r 50 -x, -e task-clock $c 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
        printf "  %8.2f ms  %s\n" "$ms" "$c"
    done
fi

# the library alone, in process
cd - >/dev/null
cc -D_GNU_SOURCE -Iinclude -O2 -o "$out/inproc" bench/sandbox/inproc.c "$build/libwarden.a" \
    $(pkg-config --libs libgit2 libcurl jansson tree-sitter libseccomp) -pthread -lm
cd "$work"
"$out/inproc" "$runs" strict
"$out/inproc" "$runs" best-effort
if command -v perf >/dev/null 2>&1; then
    perf stat -x, -e task-clock "$out/inproc" "$runs" strict 2>&1 >/dev/null |
        awk -F, -v n="$runs" '/task-clock/ {printf "  %8.2f ms  CPU per wd_sandbox_run(true), strict, whole process tree\n", $1 / n}'
fi
