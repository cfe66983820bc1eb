#!/usr/bin/env python3
"""Context recall: is what a real fix changed in the first request's context?

For each sampled bug-fix commit of a repository (subject or body saying fix,
bug, crash, ...; modifying 1 to 3 existing source files the map parses), the
parent's tree is exported, the ticket is the commit's subject (title) and body,
and the context is built exactly as `warden run` builds the first request
(wd_context_build at the default budget, via probe.c). Scored per commit:

  files:     every changed source file is among the files sent
  functions: every changed function's definition line (git's hunk header
             function context, which git cuts at 80 bytes) begins a line of the
             files text sent (so a caller's signature line "path:12: sig" does
             not count)
  lines:     stricter: every line the fix deletes or replaces (or, for a pure
             insertion, the line it inserts after) is in the files text, so
             the code to change was shown, not only its signature

Also reported: the mean context size, and the mean wall time of building the
context against the map alone (the probe builds the map first, same cache).

Nothing of the measured repository is copied into this tree.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

SRC_EXT = (".c", ".h", ".py")
FIX_RE = re.compile(r"\b(fix(e[sd])?|bug|crash|regression|broken|wrong|leak|incorrect)\b", re.I)


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo] + list(args), capture_output=True,
                          check=True).stdout


def pick(repo, want, rng):
    """want commits of the pool, in rng's shuffled order; with rng None, every
    commit of the pool, oldest first (want is then ignored)."""
    log = git(repo, "log", "--no-merges", "--format=%H%x00%P%x00%s%x00%b%x01").decode(
        errors="replace")
    cands = []
    for rec in log.split("\x01"):
        parts = rec.strip("\n").split("\x00")
        if len(parts) < 4 or len(parts[1].split()) != 1:
            continue
        sha, parent, subject, body = parts[0].strip(), parts[1], parts[2], parts[3]
        if not FIX_RE.search(subject + "\n" + body):
            continue
        cands.append((sha, parent, subject, body))
    if rng is None:
        cands.reverse()  # git log is newest first
    else:
        rng.shuffle(cands)
    picked = []
    for sha, parent, subject, body in cands:
        if rng is not None and len(picked) >= want:
            break
        st = git(repo, "diff-tree", "--no-renames", "--name-status", "-r", parent, sha).decode()
        rows = [r.split("\t") for r in st.strip().split("\n") if r]
        src = [r[1] for r in rows if r[1].endswith(SRC_EXT)]
        if not src or len(src) > 3 or any(r[0] != "M" for r in rows if r[1].endswith(SRC_EXT)):
            continue
        picked.append((sha, parent, subject, body, src))
    return picked


def changed_functions(repo, parent, sha, paths, attrs):
    """The function lines git names in the hunk headers (xfuncname)."""
    out = subprocess.run(["git", "--git-dir", repo, "-c", "core.attributesFile=" + attrs,
                          "diff", "-U0", parent, sha, "--"] + paths,
                         capture_output=True, check=True).stdout.decode(errors="replace")
    funcs = set()
    for line in out.split("\n"):
        m = re.match(r"^@@ [^@]* @@ ?(.*)$", line)
        if m and m.group(1).strip():
            funcs.add(m.group(1).strip())
    return funcs


def changed_lines(repo, parent, sha, paths):
    """The parent's lines each hunk replaces (or inserts after), stripped, non-blank."""
    out = subprocess.run(["git", "--git-dir", repo, "diff", "-U0", parent, sha, "--"] + paths,
                         capture_output=True, check=True).stdout.decode(errors="replace")
    want, path, olds = set(), None, {}
    for line in out.split("\n"):
        if line.startswith("--- a/"):
            path = line[6:]
            if path not in olds:
                olds[path] = git(repo, "show", "%s:%s" % (parent, path)).decode(
                    errors="replace").split("\n")
            continue
        m = re.match(r"^@@ -(\d+)(?:,(\d+))? ", line)
        if not m or path is None:
            continue
        start, count = int(m.group(1)), int(m.group(2) or "1")
        rng = range(start, start + count) if count else range(start, start + 1)
        for n in rng:
            if 1 <= n <= len(olds[path]) and olds[path][n - 1].strip():
                want.add(olds[path][n - 1].strip())
    return want


def export_case(repo, work, parent, subject, body):
    """The parent's tree under work/tree and the ticket as work/title and
    work/body: what a probe reads. Returns (tree, title file, body file)."""
    tree = os.path.join(work, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    archive = subprocess.run(["git", "--git-dir", repo, "archive", parent],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
    tf, bf = os.path.join(work, "title"), os.path.join(work, "body")
    with open(tf, "w") as fh:
        fh.write(subject)
    with open(bf, "w") as fh:
        fh.write(body)
    return tree, tf, bf


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repo", required=True, help="a git repository (bare is fine)")
    ap.add_argument("--probe", required=True, help="the built probe (see run.sh)")
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--all", action="store_true",
                    help="every commit of the pool, oldest first, instead of a sample\n"
                         "(--cases and --seed are then ignored)")
    ap.add_argument("--out", help="write every case as JSON here")
    a = ap.parse_args()
    cases = pick(a.repo, a.cases, None if a.all else random.Random(a.seed))
    if a.all:
        print("pool: %d commits qualify (oldest first)" % len(cases))
    work = tempfile.mkdtemp(prefix="wd-bench-ctx-")
    cache = os.path.join(work, "cache")
    attrs = os.path.join(work, "attributes")
    with open(attrs, "w") as fh:
        fh.write("*.py diff=python\n*.c diff=cpp\n*.h diff=cpp\n")
    n_files = n_funcs = n_with_funcs = n_lines = 0
    ms = map_ms = size = 0.0
    rows = []
    try:
        for i, (sha, parent, subject, body, paths) in enumerate(cases):
            tree, tf, bf = export_case(a.repo, work, parent, subject, body)
            r = subprocess.run([a.probe, tree, tf, bf, cache], capture_output=True)
            if r.returncode != 0:
                print("case %s: probe failed: %s" % (sha[:12], r.stderr.decode()), file=sys.stderr)
                continue
            ctx = json.loads(r.stdout)
            files_ok = all(p in ctx["chosen"] for p in paths)
            funcs = changed_functions(a.repo, parent, sha, paths, attrs)
            starts = [l.strip() for l in ctx["files"].split("\n")]
            missed = sorted(f for f in funcs if not any(l.startswith(f) for l in starts))
            funcs_ok = not missed
            shown = set(l.strip() for l in ctx["files"].split("\n"))
            lines_ok = all(l in shown for l in changed_lines(a.repo, parent, sha, paths))
            n_files += files_ok
            n_lines += lines_ok
            ms += ctx.get("ms", 0)
            map_ms += ctx.get("map_ms", 0)
            size += ctx["bytes"]
            if funcs:
                n_with_funcs += 1
                n_funcs += funcs_ok
            rows.append({"commit": sha, "subject": subject, "paths": paths,
                         "chosen": ctx["chosen"], "files_ok": files_ok,
                         "functions": sorted(funcs), "functions_ok": funcs_ok,
                         "functions_missed": missed, "lines_ok": lines_ok, "ms": ctx.get("ms"),
                         "bytes": ctx["bytes"], "why": ctx.get("why", [])})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = len(rows)
    print("commits: %d (with a named function: %d)" % (n, n_with_funcs))
    print("files recall:     %d/%d = %.1f%%" % (n_files, n, 100.0 * n_files / max(n, 1)))
    print("functions recall: %d/%d = %.1f%%" % (n_funcs, n_with_funcs,
                                               100.0 * n_funcs / max(n_with_funcs, 1)))
    print("lines shown:      %d/%d = %.1f%%" % (n_lines, n, 100.0 * n_lines / max(n, 1)))
    print("mean context: %.1f KiB; mean build: context %.0f ms, map alone %.0f ms" % (
        size / max(n, 1) / 1024, ms / max(n, 1), map_ms / max(n, 1)))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
