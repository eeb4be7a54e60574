#!/usr/bin/env bash
# hiding_test.sh OUT: the rehearsal's hiding works in both directions on this machine.
#  1. Without profiling/gpu_check_hide.cmake, cmake/SegAssertHidden.cmake reports every library of the list whose
#     Debian package is installed here (so the check is able to see them);
#  2. with it, nothing is found and the configure succeeds (so the gpu-check rehearsal sees what the GPU node sees).
set -euo pipefail
out=$1
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$src/../.." && pwd)"
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== 1. not hidden: the check must see what is installed"
if cmake -S "$src/hidden_probe" -B "$out/visible" > "$out/visible.log" 2>&1; then
  visible_ok=1
else
  visible_ok=0
fi
declare -A pkg=([OpenBLAS]=libopenblas-dev [GoogleTest]=libgtest-dev [libpng]=libpng-dev [libjpeg]=libjpeg62-turbo-dev
                [nlohmann-json]=nlohmann-json3-dev [DCMTK]=libdcmtk-dev [Boost]=libboost-math-dev [oneDNN]=libdnnl-dev
                [zlib]=zlib1g-dev)
installed=0
for name in "${!pkg[@]}"; do
  if command -v dpkg > /dev/null && dpkg -s "${pkg[$name]}" > /dev/null 2>&1; then
    installed=$((installed + 1))
    grep -q "^ *$name (" "$out/visible.log" || { cat "$out/visible.log"; fail "$name is installed (${pkg[$name]}) but the check does not see it"; }
  fi
done
[ "$installed" -eq 0 ] || [ "$visible_ok" -eq 0 ] || fail "the check passed although $installed of the libraries are installed"
echo "the check sees the $installed installed libraries"

echo "== 2. hidden by profiling/gpu_check_hide.cmake"
cmake -S "$src/hidden_probe" -B "$out/hidden" -C "$root/profiling/gpu_check_hide.cmake" > "$out/hidden.log" 2>&1 ||
  { cat "$out/hidden.log"; fail "with the rehearsal's hiding, some library can still be found"; }
grep "verified hidden" "$out/hidden.log"
echo "PASS: hiding"
