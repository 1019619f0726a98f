#!/usr/bin/env bash
# Debian/Ubuntu packages the end-to-end tests and benchmarks use. Root (or sudo) needed.
set -euo pipefail
pkgs=(skopeo docker-registry apache2-utils openssl util-linux hyperfine jq binutils patchelf)
# Real engines for tests/e2e: dockerd 20.10 (docker.io: daemon, containerd, runc and a 20.10 CLI
# in /usr/bin; the CLI 28 in /usr/local/bin stays first on PATH), podman, buildah, debootstrap
# for the Debian job image's base, and a static busybox for the small test image.
pkgs+=(docker.io podman buildah debootstrap busybox-static)
# Debian's Go helper (amazon-ecr-credential-helper) for the side-by-side tests and benchmarks is
# never installed: its package puts a second docker-credential-ecr-login in /usr/bin, ahead of a
# pipx install on PATH. Its .deb is unpacked into build/peers/ instead; tests find it through
# ECR_GO_HELPER (default: build/peers/usr/bin/docker-credential-ecr-login).
PEERS="${PEERS_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build/peers}"
GO_HELPER="$PEERS/usr/bin/docker-credential-ecr-login"
# apt and dpkg wait this long for a lock another apt (unattended-upgrades, cloud-init) holds.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
want_go=0
[ "${WITH_GO_HELPER:-1}" = 1 ] && [ ! -x "$GO_HELPER" ] && want_go=1
[ ${#missing[@]} -eq 0 ] && [ $want_go = 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-system-deps: not root and no sudo; missing: ${missing[*]} (their tests skip locally)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ] || [ $want_go = 1 ]; then
  $SUDO apt-get "${APT_OPTS[@]}" update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-system-deps: installed ${missing[*]}"
fi
if [ $want_go = 1 ]; then
  work="$(mktemp -d)"
  chmod 755 "$work"  # apt downloads as its _apt user
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get "${APT_OPTS[@]}" download -qq amazon-ecr-credential-helper >/dev/null)
  mkdir -p "$PEERS"
  dpkg-deb -x "$work"/amazon-ecr-credential-helper_*.deb "$PEERS"
  test -x "$GO_HELPER"
  echo "install-system-deps: unpacked the Go helper into $PEERS (not on PATH)"
fi
