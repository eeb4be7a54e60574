#!/usr/bin/env bash
# gpu_check.sh: the CUDA check for a bare GPU node (one H200, 16 cores, CUDA 13 toolkit, cmake, ninja, gcc, PyTorch in
# /opt/torch/.venv with cuDNN as its pip wheel; no OpenBLAS, GoogleTest, libpng, libjpeg, nlohmann-json, DCMTK, Boost
# or oneDNN; no network). Builds the gpu-check profile (SEG_PROFILE=gpu-check: engine, tests/cuda, opcheck, GPU
# benchmarks; toolkit only), runs the CUDA-vs-CPU tests (cuDNN and im2col convolutions), opcheck --device cuda,
# compute-sanitizer on our kernels, the GPU benchmarks and PyTorch eager on the same model and step, and writes a
# Markdown report plus the tests' XML to $OUT (when set; else profiling/reports/gpu_check_<date>/).
# Key decision: one deadline (GPU_CHECK_SECONDS, 400 s: the node gives about 7 minutes, and this leaves time for a
# rerun); steps run in priority order, each under `timeout` with at most the time left, and the report is rewritten
# after every step, so a run cut short still says what passed and which steps were skipped.
#
# Usage: profiling/gpu_check.sh               on the GPU node (SEG_COMMIT=<hash> names the commit without .git)
#        profiling/gpu_check.sh --rehearse    the same script on a CPU machine: hides the libraries the node lacks
#                                             (and proves it), builds the profile for sm_90 as the node does, runs the
#                                             CPU halves of the CUDA tests, reports every GPU step as "no GPU"; exit 0
#                                             when all of that passes (CI runs it)
#        profiling/gpu_check.sh --prebuild    builds the sm_90 test_cuda here into prebuilt/ (git-ignored; carry it to
#                                             the node: the check runs it first, before its own build finishes)
#        profiling/gpu_check.sh --plan        prints the steps with their time limits and checks they fit the deadline
# Environment: OUT, SEG_COMMIT, GPU_CHECK_SECONDS, BUILD_DIR, SEG_TORCH_VENV (default /opt/torch/.venv),
#              SEG_CUDA_ARCH (default 90), JOBS (default nproc), GPU_CHECK_SCALE (time-limit multiplier; --rehearse: 8,
#              for a 2-core machine building what the node builds on 16).
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE=node
case "${1:-}" in
  --rehearse) MODE=rehearse ;;
  --prebuild) MODE=prebuild ;;
  --plan) MODE=plan ;;
  "") ;;
  *) echo "gpu_check.sh: unknown option '$1' (expected --rehearse, --prebuild or --plan)" >&2; exit 2 ;;
esac

DEADLINE_NODE=400   # seconds for the whole check on the node (about 7 minutes with start and transfer, one rerun left)
SCALE=${GPU_CHECK_SCALE:-1}
[ "$MODE" = rehearse ] && SCALE=${GPU_CHECK_SCALE:-8}
DEADLINE=${GPU_CHECK_SECONDS:-$((DEADLINE_NODE * SCALE))}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 4)}
ARCH=${SEG_CUDA_ARCH:-90}
VENV=${SEG_TORCH_VENV:-/opt/torch/.venv}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export PATH="$PATH:$CUDA_HOME/bin"

# ---- the plan: id | time limit on the node (s) | expected on the node (s; estimates from 2-core builds here ÷ 8
#      until a GPU run is committed) | what it proves. Order = priority: a step that no longer fits is skipped.
PLAN=(
  "env|20|5|what the node really has: GPU, driver, toolkit, compilers, cmake, ninja, PyTorch, cuDNN, libraries"
  "prebuilt|90|35|the CUDA-vs-CPU tests from a test_cuda built here (if carried and current): an early signal"
  "configure|60|15|the gpu-check profile configures with the toolkit alone; which cuDNN and convolution path"
  "build|240|100|test_cuda, opcheck and the GPU benchmarks build for sm_90 with the node's compiler"
  "test_cuda|150|35|every CUDA op forward and backward vs the CPU, the residual U-Net step; cuDNN convolutions"
  "test_im2col|90|20|convolutions and the training step again on our own im2col + cuBLAS path"
  "opcheck|60|15|the PyTorch reference cases on the GPU (opcheck --device cuda)"
  "memcheck|120|60|compute-sanitizer memcheck on our kernels (im2col convolutions: cuDNN's internals would eat the time)"
  "racecheck|60|30|compute-sanitizer racecheck on the block reductions"
  "bench_kernels|60|20|achieved bandwidth of our kernels against a device copy"
  "bench_train_fp32|60|25|residual U-Net training step, batch 4, 256x256, cuDNN FP32"
  "torch_fp32|60|30|PyTorch eager on the same model and step, TF32 off"
  "bench_train_tf32|45|20|the same step with TF32 convolutions (SEG_TF32=1)"
  "torch_tf32|45|25|PyTorch eager, TF32 on (its default for convolutions)"
  "nccl|10|0|NCCL wiring check (placeholder: a later issue adds it)"
  "bench_paper|45|20|the paper kernels on the GPU"
)
REHEARSAL_STEPS=(
  "hidden_audit|30|5|the build used no header and links no library of the packages the node lacks"
  "travel_size|20|2|what travels to the node (sources, vendored code, prebuilt binary) stays well under 64 MiB"
  "cpu_half|600|120|the CPU halves of every CUDA test (same bodies, both sides on the CPU), in the profile's build"
  "gpu_check_tests|60|5|the compiled-in reference GEMM of the profile"
  "test_cuda_skips|60|5|test_cuda runs on a machine without a GPU and skips each test with the reason"
)

if [ "$MODE" = plan ]; then
  total=0 must=0 seen_bench=0
  printf '| step | limit (s) | expected (s) | what it proves |\n|---|---|---|---|\n'
  for p in "${PLAN[@]}"; do
    IFS='|' read -r id max exp what <<< "$p"
    printf '| %s | %s | %s | %s |\n' "$id" "$max" "$exp" "$what"
    [ "$id" = bench_kernels ] && seen_bench=1
    [ $seen_bench -eq 0 ] && must=$((must + exp))  # the correctness part: everything before the benchmarks
    total=$((total + exp))
  done
  echo
  echo "deadline ${DEADLINE_NODE}s; expected: correctness steps ${must}s, everything ${total}s (the deadline skips the"
  echo "benchmarks at the tail when earlier steps run long; each step's limit caps a hang)."
  bash -n "$0" || { echo "gpu_check.sh: syntax error" >&2; exit 1; }
  [ "$DEADLINE_NODE" -le 420 ] || { echo "FAIL: the deadline exceeds the node's 7 minutes" >&2; exit 1; }
  [ $((must * 10)) -le $((DEADLINE_NODE * 9)) ] || { echo "FAIL: the correctness steps leave under 10% of the deadline" >&2; exit 1; }
  exit 0
fi

# ---- where things go
STAMP=$(date -u +%Y%m%d_%H%M%S)
if [ -n "${OUT:-}" ]; then REPDIR="$OUT"; else REPDIR="$ROOT/profiling/reports/gpu_check_${STAMP}"; fi
[ "$MODE" = rehearse ] && [ -z "${OUT:-}" ] && REPDIR="$ROOT/build-gpu-rehearse-report"
[ "$MODE" = prebuild ] && REPDIR=$(mktemp -d)  # no report: it only builds
mkdir -p "$REPDIR/logs"
REPORT="$REPDIR/gpu_check.md"
case "$MODE" in
  rehearse) BUILD="${BUILD_DIR:-$ROOT/build-gpu-rehearse}" ;;
  prebuild) BUILD="${BUILD_DIR:-$ROOT/build-gpu-prebuild}" ;;
  *) BUILD="${BUILD_DIR:-$ROOT/build-gpu}" ;;
esac
PREBUILT="$ROOT/prebuilt"
TC="$BUILD/tests/cuda/test_cuda"

# ---- the sources this check builds, hashed (names the exact tree where there is no .git)
source_hash() {
  (cd "$ROOT" && find CMakeLists.txt cmake engine kernels models losses apps/opcheck.cpp apps/toolkit/cli.cpp \
      apps/toolkit/cli.h tests/cuda tests/gpu_check tests/opcheck third_party profiling/CMakeLists.txt \
      -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cc' -o -name '*.hpp' \
      -o -name '*.txt' -o -name '*.cmake' -o -name '*.in' \) 2>/dev/null | LC_ALL=C sort | xargs sha256sum | sha256sum |
      cut -c1-16)
}
SRC_HASH=$(source_hash)
COMMIT=${SEG_COMMIT:-$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
DIRTY=""
if [ -z "${SEG_COMMIT:-}" ] && git -C "$ROOT" rev-parse HEAD > /dev/null 2>&1; then
  git -C "$ROOT" diff --quiet HEAD 2>/dev/null || DIRTY=" (with uncommitted changes)"
fi

# ---- runtime libraries: the toolkit and, on the node, the venv's cuDNN wheel (no system copy there)
CUDNN_WHEEL=""
for d in "$VENV"/lib/python3*/site-packages/nvidia/cudnn; do [ -d "$d/lib" ] && CUDNN_WHEEL="$d"; done
RUNTIME_LD="$CUDA_HOME/lib64${CUDNN_WHEEL:+:$CUDNN_WHEEL/lib}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
TORCH_PY=${SEG_TORCH_PYTHON:-$VENV/bin/python3}

HAVE_GPU=0
if [ "$MODE" = node ] && command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then HAVE_GPU=1; fi

SECONDS=0
ROWS=()
SKIPPED=()
FAILED=0
DETAILS="$REPDIR/.details.md"
: > "$DETAILS"
CONV_PATH="(not known yet)"

write_report() {
  {
    echo "# GPU check — $(date -u '+%Y-%m-%d %H:%M UTC') — mode: $MODE"
    echo
    echo "- commit: \`$COMMIT\`$DIRTY${SEG_COMMIT:+ (from SEG_COMMIT)}; sources sha256 \`$SRC_HASH\`"
    echo "- host: \`$(hostname)\`, $(nproc 2>/dev/null) cores; deadline ${DEADLINE}s (scale $SCALE), elapsed ${SECONDS}s"
    echo "- CUDA convolutions: $CONV_PATH"
    echo "- logs: \`logs/\`; GoogleTest XML: $(cd "$REPDIR" && ls ./*.xml 2>/dev/null | tr '\n' ' ' || true)"
    echo
    echo "## Summary"
    echo
    echo "| step | result | time | what it proves |"
    echo "|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    if [ ${#SKIPPED[@]} -gt 0 ]; then
      echo "Skipped: $(printf '%s; ' "${SKIPPED[@]}")"
    else
      echo "Skipped: none."
    fi
    echo
    echo "## Details"
    cat "$DETAILS"
  } > "$REPORT.tmp" && mv "$REPORT.tmp" "$REPORT"
}

plan_entry() {  # plan_entry ID -> "limit|what"
  local p id max exp what
  for p in "${PLAN[@]}" "${REHEARSAL_STEPS[@]}"; do
    IFS='|' read -r id max exp what <<< "$p"
    [ "$id" = "$1" ] && { echo "$max|$what"; return; }
  done
  echo "30|?"
}

# skip ID REASON: reports a step as not run.
skip() {
  local id=$1 reason=$2 e max what
  e=$(plan_entry "$id"); max=${e%%|*}; what=${e#*|}
  ROWS+=("| $id | $reason | | $what |")
  SKIPPED+=("$id ($reason)")
  printf '\n### %s\n\n%s\n' "$id" "$reason" >> "$DETAILS"
  echo "==> $id: $reason"
  write_report
}

# step ID [--gpu] [--needs FILE] -- CMD...: runs CMD under timeout with min(limit·scale, time left); logs to
# logs/ID.log; appends to the report. --gpu: needs the GPU (reported "no GPU" without one); --needs: a file an
# earlier step makes (reported skipped when it is missing).
step() {
  local id=$1; shift
  local gpu=0 needs=""
  while [ "$1" != "--" ]; do
    case "$1" in --gpu) gpu=1 ;; --needs) needs=$2; shift ;; esac
    shift
  done
  shift
  local e max what
  e=$(plan_entry "$id"); max=$((${e%%|*} * SCALE)); what=${e#*|}
  if [ $gpu -eq 1 ] && [ $HAVE_GPU -eq 0 ]; then
    [ "$MODE" = rehearse ] && { ROWS+=("| $id | no GPU (rehearsal) | | $what |"); printf '\n### %s\n\nno GPU (rehearsal)\n' "$id" >> "$DETAILS"; write_report; return 0; }
    skip "$id" "skipped: no GPU (nvidia-smi -L failed)"; return 0
  fi
  if [ -n "$needs" ] && [ ! -e "$needs" ]; then skip "$id" "skipped: $(basename "$needs") missing (an earlier step failed)"; return 0; fi
  local left=$((DEADLINE - SECONDS - 5)) budget=$max
  [ $left -lt $budget ] && budget=$left
  if [ $budget -lt 10 ]; then skip "$id" "skipped: out of time (${left}s left of ${DEADLINE}s)"; return 0; fi
  local log="$REPDIR/logs/$id.log" t0=$SECONDS rc cmdline
  cmdline=$(echo "$*" | tr -s '\n ' ' ' | cut -c1-240)
  [ "$1" = bash ] && [ "$2" = -c ] && cmdline="bash -c <the script in profiling/gpu_check.sh, step $id>"
  echo "==> $id (limit ${budget}s): $cmdline"
  timeout --kill-after=10 "$budget" "$@" > "$log" 2>&1
  rc=$?
  local dt=$((SECONDS - t0)) status="ok"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status="TIMED OUT after ${budget}s"; FAILED=1
  elif [ $rc -ne 0 ]; then status="FAILED (rc $rc)"; FAILED=1; fi
  ROWS+=("| $id | $status | ${dt}s | $what |")
  { printf '\n### %s — %s in %ss\n\n`%s`\n\n```\n' "$id" "$status" "$dt" "$cmdline"; tail -n 60 "$log"; printf '```\n'; } >> "$DETAILS"
  tail -n 3 "$log" | sed 's/^/    /'
  write_report
  return $rc
}

# ---- --prebuild: an sm_90 test_cuda built here with nothing the node lacks, stamped with the source hash
if [ "$MODE" = prebuild ]; then
  GEN=(); command -v ninja > /dev/null && GEN=(-G Ninja)
  cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -C "$ROOT/profiling/gpu_check_hide.cmake" -DSEG_PROFILE=gpu-check \
    -DSEG_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" ${SEG_CMAKE_ARGS:-} || exit 1
  cmake --build "$BUILD" -j "$JOBS" --target test_cuda || exit 1
  bad=$(readelf -d "$TC" | awk '/NEEDED/ {print $5}' | tr -d '[]' |
        grep -Ev '^lib(cudart|cublas|cublasLt|cudnn|gomp|stdc\+\+|m|gcc_s|c|dl|pthread|rt)\.so|^ld-linux' || true)
  [ -z "$bad" ] || { echo "gpu_check.sh --prebuild: test_cuda needs libraries the node lacks: $bad" >&2; exit 1; }
  rm -rf "$PREBUILT"; mkdir -p "$PREBUILT"
  cp "$TC" "$PREBUILT/test_cuda"
  { echo "sources $SRC_HASH"; echo "commit $COMMIT$DIRTY"; echo "built $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname)";
    echo "arch sm_$ARCH"; nvcc --version | tail -1; g++ --version | head -1; } > "$PREBUILT/STAMP"
  echo "prebuilt/test_cuda ($(du -h "$PREBUILT/test_cuda" | cut -f1)), stamp:"; cat "$PREBUILT/STAMP"
  echo "carry it to the node with the tree (the run tool's carry: [\"prebuilt\"])"
  exit 0
fi

write_report
echo "gpu_check ($MODE): report $REPORT, deadline ${DEADLINE}s"

# ---- 1. what is there
step env -- bash -c '
  echo "--- nvidia-smi"; nvidia-smi 2>&1 | head -20 || echo "nvidia-smi: not found"
  echo "--- nvcc"; nvcc --version 2>&1 | tail -2 || echo "nvcc: not found"
  echo "--- compute-sanitizer"; ls '"$CUDA_HOME"'/bin/compute-sanitizer '"$CUDA_HOME"'/compute-sanitizer/compute-sanitizer 2>&1
  echo "--- cmake / ninja / compilers"; cmake --version | head -1; ninja --version 2>&1 || echo "ninja: not found"
  gcc --version | head -1; g++ --version | head -1; echo "cores: $(nproc)"; free -g | head -2; df -h . | tail -1
  echo "--- python with torch"
  for py in "'"$TORCH_PY"'" python3; do
    printf "%s: " "$py"; "$py" -c "import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"gpu\", torch.cuda.is_available(), \"cudnn\", torch.backends.cudnn.version())" 2>&1 | tail -1
  done
  echo "--- cuDNN"
  ls -l '"$VENV"'/lib/python3*/site-packages/nvidia/cudnn/lib/libcudnn.so* 2>/dev/null || echo "no cuDNN wheel in '"$VENV"'"
  ls '"$CUDA_HOME"'/lib64/libcudnn.so* 2>/dev/null || echo "no cuDNN in the toolkit ('"$CUDA_HOME"'/lib64)"
  ldconfig -p 2>/dev/null | grep -i "libcudnn.so" || echo "no libcudnn.so known to ldconfig"
  echo "--- libraries the full build needs (expected absent here)"
  for l in libopenblas libgtest libpng libjpeg libdnnl libdcmdata libboost_math libz; do
    printf "%-16s %s\n" "$l" "$(ldconfig -p 2>/dev/null | grep -m1 "$l\." | awk "{print \$NF}")"
  done
  for h in cblas.h gtest/gtest.h png.h jpeglib.h nlohmann/json.hpp dcmtk/config/osconfig.h boost/version.hpp oneapi/dnnl/dnnl.hpp zlib.h; do
    printf "%-26s %s\n" "$h" "$(ls /usr/include/$h /usr/include/*/$h 2>/dev/null | head -1)"
  done'

# ---- 2. the prebuilt test_cuda, if it was carried and matches these sources
if [ "$MODE" = rehearse ]; then
  ROWS+=("| prebuilt | no GPU (rehearsal) | | $(plan_entry prebuilt | cut -d'|' -f2) |")
elif [ ! -x "$PREBUILT/test_cuda" ]; then
  skip prebuilt "skipped: no prebuilt/test_cuda carried (profiling/gpu_check.sh --prebuild makes it)"
elif ! grep -q "^sources $SRC_HASH\$" "$PREBUILT/STAMP" 2>/dev/null; then
  skip prebuilt "skipped: prebuilt/test_cuda is stale ($(head -1 "$PREBUILT/STAMP" 2>/dev/null), these sources $SRC_HASH)"
else
  step prebuilt --gpu -- env LD_LIBRARY_PATH="$RUNTIME_LD" "$PREBUILT/test_cuda" \
    --gtest_output=xml:"$REPDIR/test_cuda_prebuilt.xml"
fi

# ---- 3. configure and build the gpu-check profile (the rehearsal hides what the node lacks, and finds cuDNN in a
#         copy of the node's wheel layout)
GEN=(); command -v ninja > /dev/null && GEN=(-G Ninja)
CFG=(-DSEG_PROFILE=gpu-check -DSEG_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH"
     -DSEG_TORCH_VENV="$VENV")
if [ "$MODE" = rehearse ]; then
  rm -rf "$BUILD"
  mkdir -p "$BUILD"
  FAKE_VENV="$BUILD/fake_torch_venv"
  bash "$ROOT/tests/gpu_check/make_cudnn_wheel_layout.sh" "$FAKE_VENV" "$CUDA_HOME/lib64" "$CUDA_HOME/include" > /dev/null ||
    echo "gpu_check: could not make the cuDNN wheel layout (no cuDNN in the toolkit?)"
  CFG=(-C "$ROOT/profiling/gpu_check_hide.cmake" -DSEG_PROFILE=gpu-check -DSEG_CUDA=ON -DCMAKE_BUILD_TYPE=Release
       -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DSEG_TORCH_VENV="$FAKE_VENV")
  # CI has no ccache; a launcher configured in the environment would only hide the real build time
fi
step configure -- cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" "${CFG[@]}" ${SEG_CMAKE_ARGS:-}
if [ -f "$REPDIR/logs/configure.log" ]; then
  CONV_PATH=$(grep -m1 "segengine: CUDA convolutions" "$REPDIR/logs/configure.log" | sed 's/.*CUDA convolutions: //')
  CUDNN_LINE=$(grep -m1 "segengine: cuDNN" "$REPDIR/logs/configure.log" | sed 's/^-- segengine: //')
  [ -n "$CUDNN_LINE" ] && CONV_PATH="$CONV_PATH — $CUDNN_LINE"
  [ -n "$CONV_PATH" ] || CONV_PATH="(configure did not say)"
  if [ "$MODE" = rehearse ] && ! grep -q "cuDNN .* from venv wheel $BUILD/fake_torch_venv" "$REPDIR/logs/configure.log"; then
    echo "gpu_check: the rehearsal's cuDNN did not come from the wheel layout" >> "$REPDIR/logs/configure.log"
    ROWS+=("| cudnn_from_wheel | FAILED: cuDNN not found in the wheel layout | | the node's cuDNN layout is found |")
    FAILED=1
  fi
  write_report
fi
TARGETS=(test_cuda opcheck bench_cuda_kernels bench_train bench_paper_kernels bench_coordconv)
[ "$MODE" = rehearse ] && TARGETS+=(test_cuda_cpu_half test_gpu_check)
step build --needs "$BUILD/CMakeCache.txt" -- cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"

# ---- rehearsal only: the hiding held through the build, the size of what travels, the CPU halves
if [ "$MODE" = rehearse ]; then
  step hidden_audit --needs "$TC" -- bash "$ROOT/profiling/gpu_check_audit.sh" "$BUILD"
  step travel_size -- bash -c '
    cd "'"$ROOT"'"
    if git rev-parse HEAD > /dev/null 2>&1; then
      files=$(git ls-files --cached --others --exclude-standard | while read -r f; do [ -f "$f" ] && echo "$f"; done)
    else
      files=$(find . -type f -not -path "./build*" -not -path "./.git/*" | sed "s|^\./||")
    fi
    src=$(echo "$files" | tr "\n" "\0" | du -cb --files0-from=- | tail -1 | cut -f1)
    tp=$(du -sb third_party | cut -f1)
    pre=$(du -sb "'"$BUILD"'/tests/cuda/test_cuda" | cut -f1)
    cases=$(du -sb tests/opcheck_cases | cut -f1)
    total=$((src + pre))
    mib() { awk -v b="$1" "BEGIN {printf \"%.1f MiB\", b / 1048576}"; }
    echo "source tree (tracked + untracked, not ignored): $(mib $src), of which third_party $(mib $tp), opcheck cases $(mib $cases)"
    echo "prebuilt test_cuda (sm_90, optional carry): $(mib $pre)"
    echo "total that would travel: $(mib $total) of 64 MiB"
    [ "$total" -lt $((48 * 1048576)) ] || { echo "more than 48 MiB would travel: too close to the 64 MiB limit"; exit 1; }'
  step cpu_half --needs "$BUILD/tests/cuda/test_cuda_cpu_half" -- "$BUILD/tests/cuda/test_cuda_cpu_half" \
    --gtest_output=xml:"$REPDIR/test_cuda_cpu_half.xml"
  step gpu_check_tests --needs "$BUILD/tests/gpu_check/test_gpu_check" -- "$BUILD/tests/gpu_check/test_gpu_check" \
    --gtest_output=xml:"$REPDIR/test_gpu_check.xml"
  step test_cuda_skips --needs "$TC" -- bash -c '
    "'"$TC"'" --gtest_output=xml:"'"$REPDIR"'/test_cuda_nogpu.xml" > /tmp/seg_tc_$$.log 2>&1; rc=$?; cat /tmp/seg_tc_$$.log
    rm -f /tmp/seg_tc_$$.log; [ $rc -eq 0 ] || exit $rc
    grep -q "no GPU" "'"$REPDIR"'/test_cuda_nogpu.xml" || { echo "the GPU tests did not skip with the reason"; exit 1; }'
fi

# ---- 4. the CUDA-vs-CPU tests, both convolution paths
export LD_LIBRARY_PATH="$RUNTIME_LD"
step test_cuda --gpu --needs "$TC" -- "$TC" --gtest_output=xml:"$REPDIR/test_cuda.xml"
if [ -f "$REPDIR/logs/test_cuda.log" ]; then
  banner=$(grep -m1 "^\[cuda tests\]" "$REPDIR/logs/test_cuda.log" | sed 's/^\[cuda tests\] //')
  [ -n "$banner" ] && CONV_PATH="$CONV_PATH; at run time: $banner" && write_report
fi
step test_im2col --gpu --needs "$TC" -- env SEG_CONV_IMPL=im2col "$TC" --gtest_filter='CudaConv.*:CudaTrain.*' \
  --gtest_output=xml:"$REPDIR/test_cuda_im2col.xml"

# ---- 5. the PyTorch reference cases on the GPU
step opcheck --gpu --needs "$BUILD/apps/opcheck" -- "$BUILD/apps/opcheck" "$ROOT/tests/opcheck_cases" --device cuda

# ---- 6. sanitizers on our kernels
SAN=$(command -v compute-sanitizer || ls "$CUDA_HOME"/bin/compute-sanitizer "$CUDA_HOME"/compute-sanitizer/compute-sanitizer \
      2> /dev/null | head -1)
if [ -z "$SAN" ] && [ $HAVE_GPU -eq 1 ]; then
  skip memcheck "skipped: compute-sanitizer not found (PATH, $CUDA_HOME/bin, $CUDA_HOME/compute-sanitizer)"
  skip racecheck "skipped: compute-sanitizer not found"
else
SAN=${SAN:-compute-sanitizer}
step memcheck --gpu --needs "$TC" -- env SEG_CONV_IMPL=im2col "$SAN" --tool memcheck --error-exitcode 1 --leak-check no \
  --print-limit 20 "$TC" --gtest_filter='CudaCore.*:CudaKernels.*:CudaPaper.*:CudaConv.*:CudaDevice.CopiesRoundTripEveryDtype'
step racecheck --gpu --needs "$TC" -- env SEG_CONV_IMPL=im2col "$SAN" --tool racecheck --error-exitcode 1 --print-limit 20 \
  "$TC" --gtest_filter='CudaCore.SumAndMean:CudaCore.SoftmaxAndLogSoftmax:CudaCore.NllCrossEntropyMse:CudaKernels.BatchNorm*:CudaKernels.GroupNorm:CudaPaper.Moments:CudaPaper.LaplacianQuadraticForm:CudaPaper.FusedLosses:CudaConv.TransposedConv'
fi

# ---- 7. benchmarks: ours, then PyTorch eager on the same model and step
B="$BUILD/profiling"
step bench_kernels --gpu --needs "$B/bench_cuda_kernels" -- "$B/bench_cuda_kernels" --device cuda
step bench_train_fp32 --gpu --needs "$B/bench_train" -- "$B/bench_train" --device cuda --batch 4 --size 256 --steps 20 --no-torch
if [ "$MODE" = node ] && ! "$TORCH_PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' > /dev/null 2>&1; then
  skip torch_fp32 "skipped: $TORCH_PY cannot import torch with a GPU (SEG_TORCH_PYTHON=... to name another)"
  TORCH_OK=0
else
  step torch_fp32 --gpu -- "$TORCH_PY" "$ROOT/profiling/bench_train_torch_cuda.py" --batch 4 --size 256 --no-tf32
  TORCH_OK=1
fi
step bench_train_tf32 --gpu --needs "$B/bench_train" -- env SEG_TF32=1 "$B/bench_train" --device cuda --batch 4 --size 256 \
  --steps 20 --no-torch
if [ $TORCH_OK -eq 1 ]; then
  step torch_tf32 --gpu -- "$TORCH_PY" "$ROOT/profiling/bench_train_torch_cuda.py" --batch 4 --size 256
else
  skip torch_tf32 "skipped: as torch_fp32"
fi
ROWS+=("| nccl | not built (placeholder: the multi-GPU wiring check comes with a later issue) | | $(plan_entry nccl | cut -d'|' -f2) |")
SKIPPED+=("nccl (not built yet)")
step bench_paper --gpu --needs "$B/bench_paper_kernels" -- "$B/bench_paper_kernels" --device cuda

# ---- ours vs PyTorch in one line
ms() { grep -m1 '^ms_per_step' "$REPDIR/logs/$1.log" 2>/dev/null | awk '{print $2}'; }
if [ -n "$(ms bench_train_fp32)" ] && [ -n "$(ms torch_fp32)" ]; then
  r=$(awk -v a="$(ms bench_train_fp32)" -v b="$(ms torch_fp32)" 'BEGIN {printf "%.2f", a / b}')
  printf '\n### ours vs PyTorch (ms per step, batch 4, 256x256)\n\nFP32: ours %s, PyTorch %s, ratio %s. TF32: ours %s, PyTorch %s.\n' \
    "$(ms bench_train_fp32)" "$(ms torch_fp32)" "$r" "$(ms bench_train_tf32)" "$(ms torch_tf32)" >> "$DETAILS"
fi
write_report
rm -f "$DETAILS"
# keep the details in the report only
echo "report: $REPORT (${SECONDS}s)"
printf '%s\n' "${ROWS[@]}"
exit $FAILED
