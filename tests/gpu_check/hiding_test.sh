#!/usr/bin/env bash
# hiding_test.sh OUT [FULL_BUILD]: the rehearsal's hiding and its audit work in both directions on this machine.
#  1. Without profiling/gpu_check_hide.cmake, cmake/SegAssertHidden.cmake reports every library of the list whose
#     Debian package is installed here (so the check is able to see them);
#  2. with it, nothing is found and the configure succeeds (so the gpu-check rehearsal sees what the GPU node sees);
#  3. given the full build (which uses those libraries), profiling/gpu_check_audit.sh fails on it, naming them (so the
#     audit the rehearsal passes is able to see a leak).
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

if [ -n "${2:-}" ]; then
  echo "== 3. the audit sees the libraries a full build uses"
  if bash "$root/profiling/gpu_check_audit.sh" "$2" > "$out/audit_full.log" 2>&1; then
    cat "$out/audit_full.log"; fail "the audit passed a build that links OpenBLAS"
  fi
  grep -q "needs libopenblas" "$out/audit_full.log" || { cat "$out/audit_full.log"; fail "the audit did not name OpenBLAS"; }
  grep -q "belong to a hidden package" "$out/audit_full.log" || { cat "$out/audit_full.log"; fail "the audit did not see cblas.h"; }
  grep "^FAIL" "$out/audit_full.log" | head -3
fi
echo "PASS: hiding"
