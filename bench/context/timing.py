#!/usr/bin/env python3
"""Side by side: the context build time of two probes on the same sampled cases.

    python3 bench/context/timing.py REPO BEFORE_PROBE AFTER_PROBE [--seed N] [--cases N]

Both probes (see run.sh) run on each case in turn, each with a cache of its own,
so load on the machine falls on both alike. Prints each probe's mean context
build and map-alone time and the after/before ratio.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (its sampling, so the cases are bench.py's)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("repo")
    ap.add_argument("probes", nargs=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=100)
    a = ap.parse_args()
    cases = bench.pick(a.repo, a.cases, random.Random(a.seed))
    work = tempfile.mkdtemp(prefix="wd-bench-time-")
    ms = [[], []]
    map_ms = [[], []]
    try:
        for sha, parent, subject, body, paths in cases:
            tree, tf, bf = bench.export_case(a.repo, work, parent, subject, body)
            for i, probe in enumerate(a.probes):
                r = subprocess.run([probe, tree, tf, bf, os.path.join(work, "cache%d" % i)],
                                   capture_output=True)
                if r.returncode != 0:
                    continue
                out = json.loads(r.stdout)
                ms[i].append(out["ms"])
                map_ms[i].append(out["map_ms"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for i, probe in enumerate(a.probes):
        n = max(len(ms[i]), 1)
        print("%s: %d cases, context %.1f ms, map alone %.1f ms" % (
            probe, len(ms[i]), sum(ms[i]) / n, sum(map_ms[i]) / n))
    if ms[0] and ms[1]:
        print("context build, second / first: %.2f" % (
            (sum(ms[1]) / len(ms[1])) / (sum(ms[0]) / len(ms[0]))))


if __name__ == "__main__":
    main()
