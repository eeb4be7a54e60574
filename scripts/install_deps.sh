#!/usr/bin/env bash
# Installs every Debian package the project builds, tests and benchmarks with. README and .ci/run both call this.
# Key decision: only Debian packages (no pip, no downloads); the CUDA toolkit is expected preinstalled (optional).
set -euo pipefail
PKGS=(build-essential cmake ninja-build zlib1g-dev libgtest-dev libopenblas-dev libdnnl-dev libomp-dev libpng-dev libjpeg62-turbo-dev libgif-dev
      nlohmann-json3-dev libgloo-dev libdcmtk-dev libboost-math-dev librsvg2-dev pkg-config
      clang python3 python3-numpy python3-torch python3-nibabel python3-scipy python3-pil)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install_deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install_deps: all packages present"
fi
