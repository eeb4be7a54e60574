#!/usr/bin/env bash
# cudnn_discovery_test.sh OUT TOOLKIT_LIB TOOLKIT_INCLUDE: checks cmake/SegFindCudnn.cmake against the GPU node's
# layout, made here from the toolkit's cuDNN (make_cudnn_wheel_layout.sh: only libcudnn.so.9, in the venv's wheel):
#  1. SEG_CUDNN=ON with SEG_TORCH_VENV=<that venv> finds the wheel (before the toolkit, which also has cuDNN here);
#     the nvcc-built probe reads the wheel's header (its marker), links libcudnn.so.9 by its SONAME with the wheel's
#     folder in RUNPATH, the loader resolves it there, and the header and library versions agree;
#  2. with no cuDNN anywhere (empty venv, toolkit not searched), SEG_CUDNN=ON fails the configure naming what was
#     searched, and SEG_CUDNN=AUTO configures without cuDNN.
set -euo pipefail
out=$1 tlib=$2 tinc=$3
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }
wheel=$(bash "$src/make_cudnn_wheel_layout.sh" "$out/venv" "$tlib" "$tinc")
[ ! -e "$wheel/lib/libcudnn.so" ] || fail "the wheel layout must not have an unversioned libcudnn.so"

echo "== 1. the wheel layout, SEG_CUDNN=ON"
cmake -S "$src/cudnn_probe" -B "$out/p1" -DSEG_CUDNN=ON -DSEG_TORCH_VENV="$out/venv" > "$out/p1.log" 2>&1 ||
  { cat "$out/p1.log"; fail "configure with the wheel layout failed"; }
grep "probe:" "$out/p1.log"
mapfile -t found < "$out/p1/found.txt"
[[ "${found[0]}" == "venv wheel $wheel" ]] || fail "cuDNN came from '${found[0]}', expected the venv wheel $wheel"
[[ "${found[1]}" == "$wheel/lib/libcudnn.so.9" ]] || fail "library ${found[1]}"
[[ "${found[2]}" == "$wheel/include" ]] || fail "include ${found[2]}"
cmake --build "$out/p1" > "$out/p1.build.log" 2>&1 || { cat "$out/p1.build.log"; fail "the probe did not build"; }
readelf -d "$out/p1/probe" | grep -q 'NEEDED.*\[libcudnn\.so\.9\]' || fail "the probe does not NEED libcudnn.so.9"
readelf -d "$out/p1/probe" | grep -E 'R(UN)?PATH' | grep -q "$wheel/lib" || fail "the wheel's lib folder is not in the probe's RUNPATH"
ldd "$out/p1/probe" | grep 'libcudnn.so.9' | grep -q "$wheel/lib/libcudnn.so.9" ||
  fail "the loader resolves libcudnn.so.9 elsewhere: $(ldd "$out/p1/probe" | grep cudnn)"
run=$("$out/p1/probe")
echo "$run"
hv=$(echo "$run" | awk '/^header/ {print $3}') lv=$(echo "$run" | awk '/^library/ {print $2}')
echo "$run" | grep -q '^header wheel-copy' || fail "nvcc compiled against another cudnn.h than the wheel's"
IFS=. read -r vmaj vmin vpat <<< "${found[3]}"
[ "$hv" = "$((vmaj * 10000 + vmin * 100 + vpat))" ] || fail "header version $hv is not the ${found[3]} CMake found"
[ "$hv" = "$lv" ] || fail "header version $hv differs from the loaded library's $lv"

echo "== 2. no cuDNN anywhere"
mkdir -p "$out/empty_venv"
ignore="/usr/local/cuda;$(readlink -f "$tlib/..")"
if cmake -S "$src/cudnn_probe" -B "$out/p2" -DSEG_CUDNN=ON -DPROBE_NO_TOOLKIT=ON -DSEG_TORCH_VENV="$out/empty_venv" \
     -DCMAKE_IGNORE_PREFIX_PATH="$ignore" > "$out/p2.log" 2>&1; then
  cat "$out/p2.log"
  fail "SEG_CUDNN=ON configured without any cuDNN"
fi
grep -q "SEG_CUDNN=ON but cuDNN 9" "$out/p2.log" || { cat "$out/p2.log"; fail "the SEG_CUDNN=ON failure does not say what is missing"; }
grep -q "venv wheel (none under $out/empty_venv" "$out/p2.log" || { cat "$out/p2.log"; fail "the message does not list the venv searched"; }
cmake -S "$src/cudnn_probe" -B "$out/p3" -DSEG_CUDNN=AUTO -DPROBE_NO_TOOLKIT=ON -DSEG_TORCH_VENV="$out/empty_venv" \
  -DCMAKE_IGNORE_PREFIX_PATH="$ignore" > "$out/p3.log" 2>&1 || { cat "$out/p3.log"; fail "SEG_CUDNN=AUTO without cuDNN must configure"; }
grep -q "probe: cuDNN not found" "$out/p3.log" || fail "AUTO did not report the miss"
echo "PASS: cuDNN discovery (wheel layout found, linked and loaded; ON fails loudly without cuDNN; AUTO goes on)"
