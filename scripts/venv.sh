#!/usr/bin/env bash
# scripts/venv.sh VENV EXTRA: a venv of $PYTHON (default python3) holding this project, editable,
# with the optional dependencies EXTRA (demo, test). A venv of another Python version (or a broken
# one) is rebuilt, never reused; pip runs again when pyproject.toml is newer than the extra's stamp.
set -euo pipefail
venv=$1
extra=$2
PYTHON=${PYTHON:-python3}
cd "$(dirname "$0")/.."
version='import sys; print("%d.%d" % sys.version_info[:2])'
if ! want=$("$PYTHON" -c "$version" 2>/dev/null); then
  echo "venv: cannot run $PYTHON; set PYTHON to a Python 3.11+ interpreter" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "venv: $PYTHON is Python $want; 3.11 or later is needed (make PYTHON=python3.11 ...)" >&2
  exit 1
fi
have=$("$venv/bin/python" -c "$version" 2>/dev/null || echo none)
if [ "$have" != "$want" ]; then
  if [ -e "$venv" ]; then
    echo "venv: $venv is Python $have, $PYTHON is $want: rebuilding it" >&2
    rm -rf "$venv"
  fi
  "$PYTHON" -m venv "$venv"
fi
stamp="$venv/.installed-$extra"
if [ ! -e "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e ".[$extra]"
  touch "$stamp"
fi
