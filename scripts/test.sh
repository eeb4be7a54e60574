#!/usr/bin/env bash
# The project's test command (README and .ci/run): install the Debian packages (scripts/install_deps.sh; a no-op when
# they are present), configure, build everything, run every test suite with ctest. Works alone on a fresh machine.
# CUDA code is compiled when nvcc is present; GPU tests skip with the reason when no GPU is usable.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install_deps.sh
BUILD=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${SEG_CMAKE_ARGS:-}
cmake --build "$BUILD" -j "$JOBS"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}
