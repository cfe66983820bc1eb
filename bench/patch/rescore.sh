#!/bin/sh
# Re-score warden alone on a corpus that bench.py kept (--work DIR): each
# case's damaged diffs applied to a fresh copy of its base, compared with the
# commit's files. Quick (no corpus building, no other tools) for checking a
# matcher change against the same held-out cases.
#
# usage: bench/patch/rescore.sh WORK_DIR WARDEN CLASS...
#   prints per class: right, wrong (exit 0 but files differ, with the cases;
#   a case marked ~ differs only in lines that read as the commit's once
#   re-indented as the class's reply was: "alike", the reply cannot tell)
#   and refused (warden exits non-zero and, all or nothing, changes nothing);
#   cases bench.py marked moot (CLASS.moot: the damage erased an indentation
#   change the commit made) are counted apart
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: rescore.sh WORK_DIR WARDEN CLASS...}
w=${2:?usage: rescore.sh WORK_DIR WARDEN CLASS...}
shift 2
tmp=$(mktemp -d /tmp/wd-rescore.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for cls in "$@"; do
    r=0; wr=0; ref=0; wl=""; mr=0; mw=0; mf=0; sc=0
    for c in "$work"/case*; do
        [ -f "$c/$cls.diff" ] || continue
        rm -rf "$tmp/t"
        cp -r "$c/base" "$tmp/t"
        if "$w" apply --repo "$tmp/t" "$c/$cls.diff" >/dev/null 2>&1; then
            if diff -r -x .git "$tmp/t" "$c/want" >/dev/null 2>&1; then
                v=right
            else
                v=wrong
            fi
        else
            v=refused
        fi
        if [ -f "$c/$cls.moot" ]; then
            # the damage erased an indentation change the commit made
            case $v in right) mr=$((mr + 1)) ;; wrong) mw=$((mw + 1)) ;; *) mf=$((mf + 1)) ;; esac
            continue
        fi
        case $v in
        right) r=$((r + 1)) ;;
        wrong)
            wr=$((wr + 1)); mark=""
            if python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import bench
sys.exit(0 if bench.dirs_read_alike(sys.argv[2], sys.argv[3], sys.argv[4]) else 1)' \
                    "$here" "$tmp/t" "$c/want" "$cls"; then
                sc=$((sc + 1)); mark="~"
            fi
            wl="$wl $(basename "$c")$mark" ;;
        *) ref=$((ref + 1)) ;;
        esac
    done
    m=$((mr + mw + mf)); extra=""
    [ $m -gt 0 ] && extra=" moot $m (right $mr wrong $mw refused $mf)"
    [ $sc -gt 0 ] && extra="$extra alike $sc"
    echo "$cls: right $r wrong $wr refused $ref$extra${wl:+  wrong:$wl}"
done
