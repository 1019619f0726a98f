#!/usr/bin/env bash
# Debian/Ubuntu packages the end-to-end tests and benchmarks use. Root (or sudo) needed.
set -euo pipefail
pkgs=(skopeo docker-registry apache2-utils openssl util-linux hyperfine jq binutils patchelf)
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
