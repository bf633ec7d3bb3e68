#!/bin/sh
# Print the newest CPython 3 that pyenv keeps ($PYENV_ROOT, else ~/.pyenv), when it is newer
# than the interpreter given (default python3); print nothing when there is none.
# Used by `make test-newest`, which runs the fast suite on it.
set -eu
base=${1:-python3}
root=${PYENV_ROOT:-$HOME/.pyenv}
best=""
for dir in "$root"/versions/3.*; do
    name=${dir##*/}
    case "$name" in *[!0-9.]*) continue ;; esac  # 3.13.0, not 3.14-dev, 3.13.0t or pypy
    [ -x "$dir/bin/python3" ] || continue
    best=$(printf '%s\n%s\n' "$best" "$name" | sort -V | tail -n 1)
done
[ -n "$best" ] || exit 0
have=$("$base" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
top=$(printf '%s\n%s\n' "$have" "$best" | sort -V | tail -n 1)
if [ "$top" != "$have" ]; then
    echo "$root/versions/$best/bin/python3"
fi
