#!/usr/bin/env python3
"""Derive SWE-bench-shaped instances from a C project's history (berry by default).

For each non-merge commit that changes both the sources and tests/*.be, newest
first: the base is its parent, test_patch its changes under tests/, patch the
rest. The tests are run on base+test_patch and on the commit itself, each test
file being one test ("ok NAME" / "FAIL NAME" lines, which warden's gate reads):
FAIL_TO_PASS are the tests that fail before and pass after, PASS_TO_PASS the
ones that pass on both. A commit with no FAIL_TO_PASS test is skipped, as
SWE-bench skips it; so is one whose base does not build.

    bench/eval/derive.py MIRROR WORKDIR OUT.jsonl [COUNT]

MIRROR is the project's git repository (e.g. /work/.mirror/berry-lang+berry/repo,
from the search tool's fetch); WORKDIR a scratch directory for the clone used to
build (never committed); COUNT instances at most (default 24). Builds are
incremental from one commit to the next, so deriving is mostly test time.
"""
import json
import os
import subprocess
import sys

BUILD = "make -j1 CFLAGS='-std=c99 -O0 -w' >/dev/null 2>&1"
TEST = ("st=0; for f in tests/*.be; do n=${f#tests/}; n=${n%.be}; "
        "if timeout 30 ./berry \"$f\" >/dev/null 2>&1; then echo \"ok $n\"; "
        "else echo \"FAIL $n: exit $?\"; st=1; fi; done; exit $st")
SRC_PREFIXES = ("src/", "default/")


def git(repo, *args, check=True):
    return subprocess.run(["git", "-C", repo] + list(args), check=check,
                          capture_output=True, text=True).stdout


def run_tests(work):
    """{name: passed} after building; None when the build fails."""
    if subprocess.run(BUILD, shell=True, cwd=work).returncode != 0:
        return None
    out = subprocess.run(TEST, shell=True, cwd=work, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        word, _, rest = line.partition(" ")
        name = rest.split(":")[0]
        if word in ("ok", "FAIL") and name:
            res[name] = word == "ok"
    return res


def candidates(repo):
    revs = git(repo, "rev-list", "--no-merges", "HEAD", "--", "tests").split()
    for c in revs:
        files = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", c).split()
        tests = [f for f in files if f.startswith("tests/") and f.endswith(".be")]
        srcs = [f for f in files if f.startswith(SRC_PREFIXES) and f.endswith((".c", ".h"))]
        if tests and srcs and git(repo, "rev-list", "--parents", "-n1", c).split()[1:]:
            yield c


def checkout(work, rev):
    git(work, "checkout", "-q", "-f", rev)
    git(work, "clean", "-q", "-fdx", "-e", "*.o", "-e", "*.d", "-e", "generate/", "-e", "berry")


def main():
    mirror, work, out = sys.argv[1], sys.argv[2], sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 24
    if not os.path.isdir(work):
        subprocess.run(["git", "clone", "-q", mirror, work], check=True)
    n = 0
    with open(out, "w") as f:
        for c in candidates(work):
            if n >= count:
                break
            parent = git(work, "rev-parse", c + "^").strip()
            test_patch = git(work, "diff", "--binary", parent, c, "--", "tests")
            patch = git(work, "diff", "--binary", parent, c, "--", ".", ":(exclude)tests")
            checkout(work, parent)
            if subprocess.run(["git", "apply"], input=test_patch, text=True,
                              cwd=work).returncode != 0:
                print(f"skip {c[:10]}: test patch does not apply", file=sys.stderr)
                continue
            before = run_tests(work)
            checkout(work, c)
            after = run_tests(work)
            if before is None or after is None:
                print(f"skip {c[:10]}: does not build", file=sys.stderr)
                continue
            f2p = sorted(t for t, ok in after.items() if ok and before.get(t) is False)
            p2p = sorted(t for t, ok in after.items() if ok and before.get(t) is True)
            if not f2p:
                print(f"skip {c[:10]}: no FAIL_TO_PASS test", file=sys.stderr)
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
