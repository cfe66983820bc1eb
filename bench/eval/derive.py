#!/usr/bin/env python3
"""Derive SWE-bench-shaped instances from a C project's history (berry by default).

For each non-merge bug-fix commit (its subject says fix, bug, crash or
overflow; --all takes features too) that changes both the sources and
tests/*.be, newest first: the base is its parent, test_patch its changes under
tests/, patch the rest. The tests are run on base+test_patch and on the commit itself, each test
file being one test ("ok NAME" / "FAIL NAME" lines, which warden's gate reads):
FAIL_TO_PASS are the tests that fail before and pass after, PASS_TO_PASS the
ones that pass on both. A commit with no FAIL_TO_PASS test is skipped, as
SWE-bench skips it; so is one whose base or fix does not build (the reason and
the build's last lines go to stderr).

    bench/eval/derive.py [--all] [--skip K] MIRROR WORKDIR OUT.jsonl [COUNT]

MIRROR is the project's git repository (e.g. /work/.mirror/berry-lang+berry/repo,
from the search tool's fetch); WORKDIR a scratch directory for the clone used to
build (never committed); COUNT instances at most (default 24). Every build
starts from a clean checkout (git clean -fdx), as each instance of warden eval
does in its fresh work tree: an incremental build across distant commits keeps
make's dependency files (*.d) naming headers that an older commit does not have
("No rule to make target 'src/be_byteslib.h'") and generated tables of another
version, which once made every commit older than mid-2024 "not build".
--skip K leaves out the first K candidates, so that two derivations (in two
WORKDIRs) can share the history and their outputs be concatenated.
"""
import json
import os
import re
import subprocess
import sys

BUILD = "make -j1 CFLAGS='-std=c99 -O0 -w' >/dev/null 2>&1"
TEST = ("st=0; for f in tests/*.be; do n=${f#tests/}; n=${n%.be}; "
        "if timeout 30 ./berry \"$f\" >/dev/null 2>&1; then echo \"ok $n\"; "
        "else echo \"FAIL $n: exit $?\"; st=1; fi; done; exit $st")
SRC_PREFIXES = ("src/", "default/")
FIX = re.compile(r"\bfix|\bbug|crash|overflow", re.I)


def git(repo, *args, check=True):
    return subprocess.run(["git", "-C", repo] + list(args), check=check,
                          capture_output=True, text=True).stdout


def run_tests(work):
    """({name: passed}, None) after building; (None, last build lines) when it fails."""
    b = subprocess.run(BUILD.replace(" >/dev/null 2>&1", ""), shell=True, cwd=work,
                       capture_output=True, text=True)
    if b.returncode != 0:
        return None, " | ".join((b.stdout + b.stderr).strip().splitlines()[-2:])
    out = subprocess.run(TEST, shell=True, cwd=work, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        word, _, rest = line.partition(" ")
        name = rest.split(":")[0]
        if word in ("ok", "FAIL") and name:
            res[name] = word == "ok"
    return res, None


def candidates(repo, fixes_only):
    revs = git(repo, "rev-list", "--no-merges", "HEAD", "--", "tests").split()
    for c in revs:
        files = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", c).split()
        tests = [f for f in files if f.startswith("tests/") and f.endswith(".be")]
        srcs = [f for f in files if f.startswith(SRC_PREFIXES) and f.endswith((".c", ".h"))]
        if fixes_only and not FIX.search(git(repo, "log", "-1", "--format=%s", c)):
            continue
        if tests and srcs and git(repo, "rev-list", "--parents", "-n1", c).split()[1:]:
            yield c


def checkout(work, rev):
    git(work, "checkout", "-q", "-f", rev)
    git(work, "clean", "-q", "-fdx")


def main():
    args = sys.argv[1:]
    fixes_only = "--all" not in args
    args = [a for a in args if a != "--all"]
    skip = 0
    if "--skip" in args:
        i = args.index("--skip")
        skip = int(args[i + 1])
        del args[i:i + 2]
    mirror, work, out = args[0], args[1], args[2]
    count = int(args[3]) if len(args) > 3 else 24
    if not os.path.isdir(work):
        subprocess.run(["git", "clone", "-q", mirror, work], check=True)
    n = 0
    with open(out, "w") as f:
        for k, c in enumerate(candidates(work, fixes_only)):
            if n >= count:
                break
            if k < skip:
                continue
            print(f"candidate {k} {c[:10]}", file=sys.stderr)
            parent = git(work, "rev-parse", c + "^").strip()
            test_patch = git(work, "diff", "--binary", parent, c, "--", "tests")
            patch = git(work, "diff", "--binary", parent, c, "--", ".", ":(exclude)tests")
            checkout(work, parent)
            if subprocess.run(["git", "apply"], input=test_patch, text=True,
                              cwd=work).returncode != 0:
                print(f"skip {c[:10]}: test patch does not apply", file=sys.stderr)
                continue
            before, why = run_tests(work)
            if before is None:
                print(f"skip {c[:10]}: base does not build: {why}", file=sys.stderr)
                continue
            checkout(work, c)
            after, why = run_tests(work)
            if after is None:
                print(f"skip {c[:10]}: the fix does not build: {why}", file=sys.stderr)
                continue
            f2p = sorted(t for t, ok in after.items() if ok and before.get(t) is False)
            p2p = sorted(t for t, ok in after.items() if ok and before.get(t) is True)
            if not f2p:
                new = sorted(set(f[len("tests/"):-len(".be")] for f in
                                 git(work, "diff", "--name-only", parent, c, "--", "tests").split()
                                 if f.endswith(".be")))
                print(f"skip {c[:10]}: no FAIL_TO_PASS test (its tests {new}: on the base "
                      f"{[before.get(t) for t in new]}, with the fix {[after.get(t) for t in new]})",
                      file=sys.stderr)
                continue
            subject = git(work, "log", "-1", "--format=%s%n%n%b", c).strip()
            inst = {
                "instance_id": f"berry-{c[:10]}",
                "repo": os.path.abspath(mirror),
                "base_commit": parent,
                "problem_statement": subject or "fix the failing tests",
                "patch": patch,
                "test_patch": test_patch,
                "FAIL_TO_PASS": json.dumps(f2p),
                "PASS_TO_PASS": json.dumps(p2p),
                "build": BUILD.replace(" >/dev/null 2>&1", ""),
                "test": TEST,
            }
            f.write(json.dumps(inst) + "\n")
            f.flush()
            n += 1
            print(f"instance {inst['instance_id']}: F2P {f2p}, {len(p2p)} P2P", file=sys.stderr)
    print(f"{n} instances in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
