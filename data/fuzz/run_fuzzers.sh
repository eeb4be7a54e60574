#!/usr/bin/env bash
# Builds the libFuzzer targets of data/fuzz (NIfTI, MetaImage, NRRD, PNG, JPEG, GIF, DICOM readers) and tools/fuzz (the
# engine's .npy and safetensors parsers) with clang, AddressSanitizer and UndefinedBehaviorSanitizer, and runs each
# for N seconds (default 20) from a seed corpus made at run time (make_seeds: the project's writers, libjpeg, DCMTK;
# committed .npy reference arrays; two hand-made safetensors files).
# Exits non-zero when a target crashes; crash inputs are kept in OUT/crashes.
# Key decision: script-only (no CMake option), so the normal g++ build never needs clang; build output goes to
# build-fuzz/ (git-ignored). Usage: data/fuzz/run_fuzzers.sh [SECONDS] [OUT=build-fuzz]
set -euo pipefail
SECONDS_PER_TARGET="${1:-20}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${2:-$ROOT/build-fuzz}"
CXX="${FUZZ_CXX:-clang++}"
JOBS="${FUZZ_JOBS:-2}"

command -v "$CXX" >/dev/null || { echo "run_fuzzers: $CXX not found (install clang)" >&2; exit 2; }
# libFuzzer's runtime ships in clang's resource dir (Debian: libclang-rt-NN-dev or the clang package itself).
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > /tmp/segfuzz_probe.cpp
if ! "$CXX" -fsanitize=fuzzer /tmp/segfuzz_probe.cpp -o /tmp/segfuzz_probe 2>/dev/null; then
  echo "run_fuzzers: $CXX has no libFuzzer runtime (Debian: apt-get install libclang-rt-14-dev)" >&2
  exit 2
fi
rm -f /tmp/segfuzz_probe /tmp/segfuzz_probe.cpp

mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/crashes"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c++20 -O1 -g $SAN -I$ROOT"
LIBS="-lpng -ljpeg -lgif -lz -ldcmjpeg -ldcmdata -loflog -lofstd"
SRCS=(data/formats/{image_io,nifti,metaimage,nrrd,png_io,jpeg_io,gif_io,jsrt,dicom})
# The engine's .npy and safetensors parsers need the host engine (tensor, allocator, autograd) and the elementwise ops
# the optimisers call; the CUDA backend stays out (device_nocuda).
ENGINE_SRCS=(engine/{allocator,autograd,device_common,device_nocuda,module,npy,optim,profiling,rng,serialize,tensor}
             kernels/elementwise)

echo "run_fuzzers: compiling the readers with $CXX ($SAN)"
pids=()
for s in "${SRCS[@]}" "${ENGINE_SRCS[@]}"; do
  "$CXX" $CFLAGS -fsanitize=fuzzer-no-link -c "$ROOT/$s.cpp" -o "$OUT/obj/${s//\//_}.o" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$JOBS" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
OBJS=$(for s in "${SRCS[@]}"; do printf "%s " "$OUT/obj/${s//\//_}.o"; done)
EOBJS=$(for s in "${ENGINE_SRCS[@]}"; do printf "%s " "$OUT/obj/${s//\//_}.o"; done)

"$CXX" $CFLAGS "$ROOT/data/fuzz/make_seeds.cpp" $OBJS $LIBS -o "$OUT/make_seeds"
rm -rf "$OUT/seeds" && "$OUT/make_seeds" "$OUT/seeds"
# .npy seeds: a few of the committed PyTorch reference arrays (sed, not head: under pipefail, head closing the pipe
# early made find/sort die of SIGPIPE and the script exit 141 in CI) (float32/float64, several ranks); safetensors seeds:
# two hand-made files (one tensor with metadata, two tensors).
mkdir -p "$OUT/seeds/npy" "$OUT/seeds/safetensors"
find "$ROOT/tests/opcheck_cases" -name '*.npy' -size -2k | sort | sed -n '1,8p' | xargs -r cp -t "$OUT/seeds/npy"
st_seed() {  # st_seed FILE HEADER DATA(printf escapes)
  local n=${#2}
  { printf "$(printf '\\x%02x' $((n & 255)) $((n >> 8 & 255)) 0 0 0 0 0 0)"; printf '%s' "$2"; printf "$3"; } > "$1"
}
st_seed "$OUT/seeds/safetensors/one.safetensors" \
  '{"__metadata__":{"epoch":"3"},"w":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}' \
  '\x00\x00\x80\x3f\x00\x00\x00\x40'
st_seed "$OUT/seeds/safetensors/two.safetensors" \
  '{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}' \
  '\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x80\x3f'

status=0
TARGETS=(nifti metaimage nrrd png jpeg gif dicom npy safetensors)
for t in "${TARGETS[@]}"; do
  # The engine's parsers have their targets in tools/fuzz (data/ includes nothing outside data/).
  case $t in
    npy | safetensors) T_SRC=$ROOT/tools/fuzz/fuzz_$t.cpp T_OBJS=$EOBJS ;;
    *) T_SRC=$ROOT/data/fuzz/fuzz_$t.cpp T_OBJS=$OBJS ;;
  esac
  "$CXX" $CFLAGS -fsanitize=fuzzer "$T_SRC" $T_OBJS $LIBS -o "$OUT/fuzz_$t"
  mkdir -p "$OUT/corpus/$t" "$OUT/seeds/$t"
  echo "run_fuzzers: fuzz_$t for ${SECONDS_PER_TARGET}s"
  if ! "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=20 \
       -max_len=8192 -print_final_stats=1 -artifact_prefix="$OUT/crashes/${t}_" \
       "$OUT/corpus/$t" "$OUT/seeds/$t" > "$OUT/fuzz_$t.log" 2>&1; then
    echo "run_fuzzers: fuzz_$t FAILED (log: $OUT/fuzz_$t.log, inputs: $OUT/crashes/${t}_*)" >&2
    tail -40 "$OUT/fuzz_$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$OUT/fuzz_$t.log" | tr '\n' ' '; echo
  fi
done
exit $status
