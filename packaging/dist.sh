#!/usr/bin/env bash
# packaging/dist.sh: the release artifacts in dist/, from the frozen builds `make binary` made.
#
#   docker_credential_ecr_py-<V>-py3-none-any.whl      wheel (pip / pipx install)
#   docker_credential_ecr_py-<V>.tar.gz                sdist
#   docker-credential-ecr-login-<V>-linux-<arch>.tar.gz   the onedir, with ecr-credential-provider
#   docker-credential-ecr-login-<V>-linux-<arch>-static   the static single file
#   SHA256SUMS                                         sha256sum -c SHA256SUMS checks all four
#
# The wheel and sdist come from setuptools' PEP 517 hooks in a venv of their own (what
# `python -m build` does, without another tool to install), built from the files git knows (run
# it in a git checkout: an unpacked sdist has no frozen builds to package either).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST="${DIST_DIR:-$ROOT/dist}"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"
V=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' src/docker_credential_ecr_py/__init__.py)
[ -n "$V" ] || { echo "dist: no __version__ in src/docker_credential_ecr_py/__init__.py" >&2; exit 1; }
ARCH=$(uname -m)
ONEDIR="$DIST/docker-credential-ecr-login"
STATIC="$DIST/docker-credential-ecr-login-static"
for f in "$ONEDIR/docker-credential-ecr-login" "$STATIC"; do
  [ -x "$f" ] || { echo "dist: $f is missing: run make binary first" >&2; exit 1; }
done

venv="$ROOT/build/dist-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import setuptools' 2>/dev/null; then
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q 'setuptools>=77'
fi
rm -f "$DIST"/docker_credential_ecr_py-*.whl "$DIST"/docker_credential_ecr_py-*.tar.gz \
  "$DIST"/docker-credential-ecr-login-*-linux-* "$DIST/SHA256SUMS"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A copy of what git tracks (plus untracked, unignored files): no build/ or dist/ in the sdist.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  if [ -f "$f" ]; then
    mkdir -p "$work/src-tree/$(dirname "$f")"
    cp -p "$f" "$work/src-tree/$f"
  fi
done
(cd "$work/src-tree" && "$venv/bin/python" - "$DIST" <<'PY'
import sys
from setuptools import build_meta

out = sys.argv[1]
sdist = build_meta.build_sdist(out)
wheel = build_meta.build_wheel(out)
print(sdist)
print(wheel)
PY
) >"$work/built" 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
tar -C "$DIST" --owner=0 --group=0 -czf "$DIST/docker-credential-ecr-login-$V-linux-$ARCH.tar.gz" \
  docker-credential-ecr-login
cp -p "$STATIC" "$DIST/docker-credential-ecr-login-$V-linux-$ARCH-static"
(cd "$DIST" && sha256sum "docker_credential_ecr_py-$V-py3-none-any.whl" \
  "docker_credential_ecr_py-$V.tar.gz" "docker-credential-ecr-login-$V-linux-$ARCH.tar.gz" \
  "docker-credential-ecr-login-$V-linux-$ARCH-static" >SHA256SUMS)
echo "dist: $(tail -n 2 "$work/built" | tr '\n' ' ')and the onedir tarball and static file; SHA256SUMS:"
sed 's/^/  /' "$DIST/SHA256SUMS"
