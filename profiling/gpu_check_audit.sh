#!/usr/bin/env bash
# gpu_check_audit.sh BUILD: proves that a gpu-check build (made by `gpu_check.sh --rehearse` with the libraries the
# GPU node lacks hidden from CMake) did not use them behind CMake's back — through the compiler's own search of
# /usr/include or the linker's of /usr/lib — so it builds the same way on the node:
#  1. headers: every header the compiler read (its dependency files) is from the sources, the build folder, the CUDA
#     toolkit, or a C/C++ runtime package (dpkg -S: libc6-dev, libstdc++/libgcc/gcc, linux-libc-dev); without dpkg,
#     no path may match the hidden packages' headers;
#  2. link lines name no library of the hidden packages (static or shared);
#  3. the executables NEED only the toolkit's libraries, cuDNN and the C/C++ runtime.
# Hidden packages: OpenBLAS, GoogleTest, libpng, libjpeg, nlohmann-json, DCMTK, Boost, oneDNN, zlib.
set -euo pipefail
build=$1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "$build" && pwd)"
fail=0

echo "== 1. headers the compiler read"
deps=$(mktemp)
if [ -f "$build/build.ninja" ]; then
  ninja -C "$build" -t deps | awk '/^    / {print $1}' > "$deps"
else
  find "$build" -name '*.d' -exec cat {} + | tr ' \\' '\n\n' | grep -E '^/.*\.(h|hpp|hh|cuh|inl|tcc)$|^/' > "$deps" || true
fi
sort -u "$deps" -o "$deps"
echo "$(wc -l < "$deps") distinct dependencies"
[ -s "$deps" ] || { echo "FAIL: no dependency information (was the build run?)"; exit 1; }
cuda_real=$(readlink -f "${CUDA_HOME:-/usr/local/cuda}")
outside=$(mktemp)
while read -r f; do
  case "$f" in
    "$root"/*|"$build"/*|/usr/local/cuda/*|/usr/local/cuda-*/*|"$cuda_real"/*) ;;
    /*) echo "$f" ;;
  esac
done < "$deps" > "$outside"
echo "$(wc -l < "$outside") of them outside the sources, the build folder and the CUDA toolkit"
hidden_re='/(cblas[^/]*|f77blas|openblas_config|png|pngconf|pnglibconf|jpeglib|jconfig|jmorecfg|jerror|zlib|zconf)\.h$|/include/(gtest|gmock|nlohmann|dcmtk|boost|oneapi|libpng16)/|/dnnl[^/]*\.h'
if grep -E "$hidden_re" "$outside"; then
  echo "FAIL: the headers above belong to a hidden package"
  fail=1
fi
if command -v dpkg > /dev/null; then
  owners=$(mktemp)
  # dpkg -S knows the path as installed; Debian's merged /usr means /usr/lib and /lib both may be asked
  xargs -r dpkg -S < "$outside" 2> /dev/null | cut -d: -f1 | tr ',' '\n' | sed 's/^ *//' | sort -u > "$owners" || true
  echo "packages owning them: $(tr '\n' ' ' < "$owners")"
  bad=$(grep -Ev '^(libc6-dev|libc6|libc-dev-bin|linux-libc-dev|libstdc\+\+-[0-9]+-dev|libgcc-[0-9]+-dev|gcc-[0-9]+|g\+\+-[0-9]+|libgomp1|libcrypt-dev|libnsl-dev|libtirpc-dev)$' "$owners" || true)
  if [ -n "$bad" ]; then
    echo "FAIL: headers from packages other than the C/C++ runtime: $(echo $bad)"
    fail=1
  fi
  rm -f "$owners"
fi
rm -f "$deps" "$outside"

echo "== 2. link lines"
links=$( { grep -h 'LINK_LIBRARIES\|LINK_FLAGS' "$build/build.ninja" 2>/dev/null || true;
           find "$build" -name link.txt -exec cat {} + 2>/dev/null || true; } )
# relative paths are inside the build folder (the vendored GoogleTest is built there); absolute ones must not be the
# hidden packages' libraries, nor may -l flags name them
bad=$(echo "$links" | tr ' ' '\n' | grep -E '^/.*lib(openblas|blas|gtest|gtest_main|gmock|png[0-9]*|jpeg|z|dnnl|dcm[a-z0-9]*|ofstd|oflog|boost_[a-z0-9_]*)\.(a|so)|^-l(openblas|blas|gtest|gtest_main|png|jpeg|z|dnnl|dcmdata)$' |
      grep -v "^$build/" | sort -u || true)
if [ -n "$bad" ]; then
  echo "FAIL: link lines name hidden libraries: $bad"
  fail=1
else
  echo "no hidden library on any link line"
fi

echo "== 3. what the executables NEED"
allowed='^lib(cudart|cublas|cublasLt|cudnn|gomp|stdc\+\+|m|gcc_s|c|dl|pthread|rt)\.so|^ld-linux'
n=0
while read -r exe; do
  n=$((n + 1))
  need=$(readelf -d "$exe" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}')
  bad=$(echo "$need" | grep -Ev "$allowed" || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $(basename "$exe") needs $bad"
    fail=1
  else
    echo "$(basename "$exe"): $(echo "$need" | tr '\n' ' ')"
  fi
done < <(find "$build/tests" "$build/apps" "$build/profiling" -maxdepth 2 -type f -perm -u+x 2>/dev/null |
         while read -r f; do head -c 4 "$f" | grep -q ELF && echo "$f"; done)
[ "$n" -gt 0 ] || { echo "FAIL: no executables found in $build"; fail=1; }

[ $fail -eq 0 ] && echo "PASS: the build used none of the hidden libraries"
exit $fail
