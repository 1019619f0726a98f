#!/usr/bin/env bash
# Debian/Ubuntu packages the end-to-end tests and benchmarks use. Root (or sudo) needed.
set -euo pipefail
pkgs=(skopeo docker-registry apache2-utils openssl util-linux hyperfine jq binutils patchelf)
# Real engines for tests/e2e: dockerd 20.10 (docker.io: daemon, containerd, runc and a 20.10 CLI
# in /usr/bin; the CLI 28 in /usr/local/bin stays first on PATH), podman, buildah, debootstrap
# for the Debian job image's base, and a static busybox for the small test image.
pkgs+=(docker.io podman buildah debootstrap busybox-static)
[ "${WITH_GO_HELPER:-1}" = 1 ] && pkgs+=(amazon-ecr-credential-helper)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-system-deps: not root and no sudo; missing: ${missing[*]} (their tests skip locally)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-system-deps: installed ${missing[*]}"
