#!/usr/bin/env bash
# Installs what grove needs to build and test, from Debian's packages.
# Idempotent: quiet and fast when everything is already present.
# usage: scripts/setup.sh [--tests]   (--tests adds what only the tests need)
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config git
  libcaf-dev libgit2-dev nlohmann-json3-dev libboost1.74-dev libssl-dev
  libcli11-dev libsqlite3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(python3 openssl chromium fonts-noto-cjk clang libclang-rt-dev iproute2)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
