#!/usr/bin/env python3
"""Speed of the tolerant path on a large re-indented reply, side by side.

Takes the biggest C files at HEAD of any git repository (nothing of it is
kept: everything happens in a temp dir), picks BLOCKS places per file whose
five lines are unique in the file even with whitespace ignored, and writes
the same edit (one line of each place gets a comment) twice, both damaged
as a model that expanded the file's tabs to stops of 8 writes them:

  - a SEARCH/REPLACE reply, for `warden apply --check`;
  - a unified diff with the same expanded lines, for
    `git apply --check --ignore-whitespace` (what a user holding such a
    reply would try; it matches, but would write the spaces).

Then runs hyperfine on both in one run (shared machines are noisy: read the
ratio). usage: speed.py --repo DIR --warden BIN [--files 8] [--blocks 25]
[--warden-old BIN] (a second warden, e.g. the previous build, measured in
the same run).
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True,
                          capture_output=True).stdout


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--warden", required=True)
    ap.add_argument("--warden-old")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--blocks", type=int, default=25)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    if not shutil.which("hyperfine"):
        sys.exit("speed.py: needs hyperfine")
    rows = git(a.repo, "ls-tree", "-r", "-l", "HEAD").decode().splitlines()
    cands = []
    for r in rows:
        meta, path = r.split("\t", 1)
        size = meta.split()[3]
        if path.endswith(".c") and size.isdigit():
            cands.append((int(size), path))
    cands.sort(reverse=True)
    rng = random.Random(1)
    tmp = tempfile.mkdtemp(prefix="wd-speed.")
    try:
        work = os.path.join(tmp, "repo")
        os.makedirs(work)
        subprocess.run(["git", "init", "-q", work], check=True)
        sr, diff, nblocks = [], [], 0
        for _, path in cands[:a.files]:
            text = git(a.repo, "show", "HEAD:" + path).decode("utf-8", "replace")
            dst = os.path.join(work, path)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "w") as f:
                f.write(text)
            lines = text.split("\n")
            nl = [norm(x) for x in lines]
            where = [i for i in range(len(lines) - 6) if lines[i].startswith("\t") and
                     all(lines[j].strip() for j in range(i, i + 5))]
            rng.shuffle(where)
            used = []
            for i in where:
                if len(used) == a.blocks:
                    break
                if any(abs(i - u) < 8 for u in used):
                    continue
                key = nl[i:i + 5]
                if sum(1 for k in range(len(lines) - 4) if nl[k:k + 5] == key) != 1:
                    continue
                used.append(i)
            used.sort()
            diff += ["--- a/" + path, "+++ b/" + path]
            for i in used:
                old = [x.expandtabs(8) for x in lines[i:i + 5]]
                new = old[:2] + [old[2].rstrip() + " /* x */"] + old[3:]
                sr += [path, "<<<<<<< SEARCH"] + old + ["======="] + new + \
                      [">>>>>>> REPLACE", ""]
                diff += ["@@ -%d,5 +%d,5 @@" % (i + 1, i + 1)] + \
                        [" " + x for x in old[:2]] + ["-" + old[2], "+" + new[2]] + \
                        [" " + x for x in old[3:]]
                nblocks += 1
        subprocess.run(["git", "-C", work, "add", "-A"], check=True)
        subprocess.run(["git", "-C", work, "-c", "user.email=b@b", "-c", "user.name=b",
                        "commit", "-qm", "base"], check=True)
        srf, dff = os.path.join(tmp, "reply.txt"), os.path.join(tmp, "reply.diff")
        with open(srf, "w") as f:
            f.write("\n".join(sr) + "\n")
        with open(dff, "w") as f:
            f.write("\n".join(diff) + "\n")
        print("%d files, %d blocks" % (min(a.files, len(cands)), nblocks))
        cmds = ["%s apply --check --repo %s %s" % (a.warden, work, srf)]
        if a.warden_old:
            cmds.append("%s apply --check --repo %s %s" % (a.warden_old, work, srf))
        cmds.append("git -C %s apply --check --ignore-whitespace %s" % (work, dff))
        for c in cmds:
            rc = subprocess.run(c, shell=True, capture_output=True).returncode
            if rc != 0:
                sys.exit("speed.py: does not apply: " + c)
        subprocess.run(["hyperfine", "-N", "-w", "2", "-r", str(a.runs)] + cmds, check=True)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
