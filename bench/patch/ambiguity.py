#!/usr/bin/env python3
"""How often a re-indented quote cannot say how a continuation line was written.

A model that writes a tab as 4 spaces (sr_tabs4) turns `\\t    b` (a tab and 4
spaces, aligned one column past the `(` of `\\tif (a &&`) and `\\t\\tb` (two
tabs) into the same 8 spaces; at 4 spaces a tab and 2 a space (sr_indent)
the same happens to every even alignment. No rule reading the damaged reply
can tell the two apart: only the file's habits can guess, and this script
measures how well they would.

For every C file at HEAD of a repository indented with tabs, it takes each
line that continues a line leaving a bracket open, where the line above is
indented with tabs only and its open bracket sits 4 columns past its
indentation (`if (`, `die(`, `for (`), and the line is written either
aligned one column past that bracket or with tabs only (the two readings
of one damaged width). Then it scores two ways of guessing which, from the
file's other continuation lines (at any offset): the file's majority (with a margin), and the
nearest such lines. A guess that goes wrong is a silently wrong file; no
guess is a refusal.

usage: ambiguity.py --repo DIR [--ext .c,.h]
"""
import argparse
import collections
import subprocess


def col_after(col, ch):
    return (col // 8 + 1) * 8 if ch == "\t" else col + 1


def indent(s):
    n = len(s) - len(s.lstrip(" \t"))
    col = 0
    for ch in s[:n]:
        col = col_after(col, ch)
    return s[:n], col


def open_bracket(s):
    """Column of the innermost bracket line s leaves open, or None."""
    blanks, col = indent(s)
    stack, quote, i, t = [], None, len(blanks), s.rstrip()
    while i < len(t):
        c = t[i]
        if quote:
            if c == "\\" and i + 1 < len(t):
                col = col_after(col, c)
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "([":
            stack.append(col)
        elif c in ")]" and stack:
            stack.pop()
        col = col_after(col, t[i])
        i += 1
    return stack[-1] if stack else None


def lines_of(text):
    """(line number, 'A' aligned / 'T' tabs, ambiguous) of the continuations
    under a tab-indented line that leaves a bracket open; ambiguous: its
    bracket sits 4 columns past that line's indentation."""
    lines = text.split("\n")
    out = []
    prev = None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if prev is not None:
            above = lines[prev]
            ablanks, acol = indent(above)
            oc = open_bracket(above)
            stripped = above.lstrip()
            if oc is not None and " " not in ablanks and \
                    not stripped.startswith(("/*", "*", "//")):
                blanks, col = indent(line)
                amb = oc + 1 - acol == 4
                if col == oc + 1:
                    out.append((i, "A", amb))
                elif " " not in blanks and col > acol:
                    out.append((i, "T", amb))
        prev = i
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--ext", default=".c,.h")
    a = ap.parse_args()
    exts = tuple(a.ext.split(","))
    paths = subprocess.run(["git", "-C", a.repo, "ls-tree", "-r", "--name-only", "HEAD"],
                           check=True, capture_output=True, text=True).stdout.split("\n")
    rows = []
    for path in paths:
        if not path.endswith(exts):
            continue
        text = subprocess.run(["git", "-C", a.repo, "show", "HEAD:" + path],
                              capture_output=True).stdout.decode("utf-8", "replace")
        found = lines_of(text)
        for i, truth, amb in found:
            if not amb:
                continue
            # the file's other continuations, at every offset, are its habit
            others = [f for f in found if f[0] != i]
            count = collections.Counter(f[1] for f in others)
            near = [f[1] for f in sorted(others, key=lambda f: abs(f[0] - i))[:3]]
            rows.append((truth, count["A"], count["T"], near))
    total = collections.Counter(r[0] for r in rows)
    print("%d ambiguous continuation lines: %d aligned, %d with tabs (%.1f%%)" %
          (len(rows), total["A"], total["T"], 100.0 * total["T"] / max(1, len(rows))))

    def score(name, guess):
        c = collections.Counter()
        for r in rows:
            g = guess(r)
            c["refused" if g is None else "right" if g == r[0] else "wrong"] += 1
        print("| %s | %d right | %d wrong | %d refused |" %
              (name, c["right"], c["wrong"], c["refused"]))

    print("| guess | right | wrong | refused |")
    print("|---|---|---|---|")
    for m in (2, 4, 8):
        score("the file's majority, %d to 1 (3 seen at least)" % m,
              lambda r, m=m: "A" if r[1] >= 3 and r[1] >= m * r[2] else
              "T" if r[2] >= 3 and r[2] >= m * r[1] else None)
    score("the 3 nearest such lines, when they agree",
          lambda r: r[3][0] if len(r[3]) == 3 and len(set(r[3])) == 1 else None)
    score("both of the above (4 to 1)",
          lambda r: r[3][0] if len(r[3]) == 3 and len(set(r[3])) == 1 and
          ((r[3][0] == "A" and r[1] >= 4 * r[2]) or (r[3][0] == "T" and r[2] >= 4 * r[1]))
          else None)


if __name__ == "__main__":
    main()
