#!/bin/sh
# Export the HEAD tree of a bare git repository (e.g. a mirror) into DEST,
# for bench/map/run.sh. usage: bench/map/export-tree.sh GIT_DIR DEST
set -eu
gitdir=${1:?usage: export-tree.sh GIT_DIR DEST}
dest=${2:?usage: export-tree.sh GIT_DIR DEST}
mkdir -p "$dest"
git --git-dir="$gitdir" archive HEAD | tar -x -C "$dest"
echo "exported $(find "$dest" -type f | wc -l) files to $dest"
