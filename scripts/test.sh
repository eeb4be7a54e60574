#!/usr/bin/env bash
# The project's test command (README and .ci/run): configure, build everything, run every test suite with ctest.
# CUDA code is compiled when nvcc is present; GPU tests skip with the reason when no GPU is usable.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release ${SEG_CMAKE_ARGS:-}
cmake --build "$BUILD" -j "$JOBS"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}
