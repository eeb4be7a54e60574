#!/usr/bin/env bash
# gpu_check.sh: one command for a machine with an NVIDIA GPU. Prints what is installed, builds Release for this GPU,
# runs the CUDA-vs-CPU tests (also with the im2col convolution path), the CUDA tests under compute-sanitizer
# (memcheck, racecheck), the GPU benchmarks (ours vs PyTorch eager when torch is importable) and the whole ctest
# suite, and writes a Markdown report to $OUT/gpu_check.md when OUT is set, else profiling/reports/gpu_check_<date>.md.
# Key decision: a global deadline (8.5 minutes) — every step runs under `timeout` with at most the time left, in
# priority order, and a step that no longer fits is reported as skipped rather than overrunning the 9-minute budget.
# Usage: profiling/gpu_check.sh            (from anywhere; BUILD_DIR=... to reuse a build folder)
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD_DIR:-$ROOT/build-gpu}"
DEADLINE=${GPU_CHECK_SECONDS:-510}
JOBS=$(nproc 2>/dev/null || echo 4)
STAMP=$(date +%Y%m%d_%H%M%S)
if [ -n "${OUT:-}" ]; then REPORT="$OUT/gpu_check.md"; mkdir -p "$OUT"; else
  mkdir -p "$ROOT/profiling/reports"; REPORT="$ROOT/profiling/reports/gpu_check_${STAMP%_*}.md"; fi
LOGDIR=$(mktemp -d)
SECONDS=0
SUMMARY=()

left() { echo $((DEADLINE - SECONDS)); }

# step NAME MAX_SECONDS CMD...: runs CMD with min(MAX, time left) as its timeout, logs it, appends to the report.
step() {
  local name="$1" max="$2"; shift 2
  local budget; budget=$(left)
  [ "$budget" -gt "$max" ] && budget=$max
  if [ "$budget" -lt 10 ]; then
    SUMMARY+=("| $name | skipped (out of time) | |")
    printf '\n## %s\n\nskipped: out of time\n' "$name" >> "$REPORT"
    return 99
  fi
  local log="$LOGDIR/$(echo "$name" | tr -c 'A-Za-z0-9' '_').log" t0=$SECONDS rc
  echo "==> $name (timeout ${budget}s)"
  timeout --kill-after=10 "$budget" "$@" > "$log" 2>&1
  rc=$?
  local dt=$((SECONDS - t0)) status="ok"
  [ $rc -ne 0 ] && status="FAILED (rc $rc)"
  [ $rc -eq 124 ] && status="TIMED OUT after ${budget}s"
  SUMMARY+=("| $name | $status | ${dt}s |")
  { printf '\n## %s\n\n`%s` — %s in %ss\n\n```\n' "$name" "$*" "$status" "$dt"; tail -n 80 "$log"; printf '```\n'; } >> "$REPORT"
  tail -n 5 "$log"
  return $rc
}

{
  echo "# GPU check — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Commit: \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)\`$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)'), host: \`$(hostname)\`"
} > "$REPORT"

# ---- 1. what is there
step "environment" 30 bash -c '
  echo "--- nvidia-smi"; nvidia-smi || echo "nvidia-smi: not found or failed"
  echo "--- nvcc"; nvcc --version || /usr/local/cuda/bin/nvcc --version || echo "nvcc: not found"
  echo "--- cmake"; cmake --version | head -1
  echo "--- ninja"; ninja --version || echo "ninja: not found"
  echo "--- compute-sanitizer"; (compute-sanitizer --version || /usr/local/cuda/bin/compute-sanitizer --version) 2>&1 | head -2
  echo "--- python torch"; python3 -c "import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"available\", torch.cuda.is_available(), \"cudnn\", torch.backends.cudnn.version())" 2>&1 | tail -1
  echo "--- cpu"; nproc'
export PATH="$PATH:/usr/local/cuda/bin"
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)

# ---- 2. configure (native architecture; fall back to sm_90) and build what the checks need first
GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
if ! step "configure (native arch)" 120 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DSEG_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CUDA_ARCHITECTURES=native; then
  rm -rf "$BUILD"
  step "configure (sm_90 fallback)" 120 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DSEG_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CUDA_ARCHITECTURES=90
fi
step "build (CUDA tests and GPU benchmarks)" 300 cmake --build "$BUILD" -j "$JOBS" --target test_cuda bench_cuda_kernels \
  bench_train bench_paper_kernels
TC="$BUILD/tests/cuda/test_cuda"

# ---- 3. the CUDA-vs-CPU tests, both convolution paths
step "test_cuda (cuDNN convolutions)" 120 "$TC"
SEG_CONV_IMPL=im2col step "test_cuda (SEG_CONV_IMPL=im2col)" 60 "$TC" --gtest_filter='CudaConv.*:CudaTrain.*'

# ---- 4. sanitizers (the training step is left out: minutes under instrumentation, and its ops are covered)
step "compute-sanitizer memcheck" 120 "$SAN" --tool memcheck --error-exitcode 1 --leak-check no "$TC" \
  --gtest_filter='-CudaTrain.*:CudaDevice.OutOfMemoryIsAClearError'
step "compute-sanitizer racecheck" 90 "$SAN" --tool racecheck --error-exitcode 1 "$TC" \
  --gtest_filter='CudaCore.*:CudaKernels.*:CudaPaper.*:CudaConv.CoordConv'

# ---- 5. benchmarks
step "bench_cuda_kernels (bandwidth vs device copy)" 60 "$BUILD/profiling/bench_cuda_kernels" --device cuda
step "bench_train residual U-Net, batch 4, 256x256 (ours, cuDNN FP32)" 90 "$BUILD/profiling/bench_train" --device cuda \
  --batch 4 --size 256 --steps 20 --no-torch
SEG_TF32=1 step "bench_train residual U-Net, batch 4, 256x256 (ours, SEG_TF32=1)" 60 "$BUILD/profiling/bench_train" \
  --device cuda --batch 4 --size 256 --steps 20 --no-torch
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step "PyTorch eager, same model and step (TF32 on, its default)" 90 python3 "$ROOT/profiling/bench_train_torch_cuda.py" \
    --batch 4 --size 256
  step "PyTorch eager, same model and step (TF32 off)" 60 python3 "$ROOT/profiling/bench_train_torch_cuda.py" \
    --batch 4 --size 256 --no-tf32
else
  SUMMARY+=("| PyTorch eager | skipped (torch with CUDA not importable) | |")
fi
step "bench_paper_kernels --device cuda" 60 "$BUILD/profiling/bench_paper_kernels" --device cuda

# ---- 6. everything else: the full build and the whole test suite
step "build (all)" 200 cmake --build "$BUILD" -j "$JOBS"
step "ctest (whole suite)" 240 ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" --timeout 120
for b in bench_coordconv; do
  [ -x "$BUILD/profiling/$b" ] && step "$b --device cuda" 45 "$BUILD/profiling/$b" --device cuda
done

{
  printf '\n## Summary (%ss of %ss budget)\n\n| step | result | time |\n|---|---|---|\n' "$SECONDS" "$DEADLINE"
  printf '%s\n' "${SUMMARY[@]}"
} >> "$REPORT"
# Put the summary first for the reader: rewrite the report with it after the title block.
python3 - "$REPORT" <<'PY' 2>/dev/null || true
import sys
p = sys.argv[1]; s = open(p).read()
i = s.rfind("\n## Summary")
if i > 0:
    head_end = s.find("\n## ")
    s = s[:head_end] + s[i:] + "\n" + s[head_end:i]
    open(p, "w").write(s)
PY
echo "report: $REPORT"
printf '%s\n' "${SUMMARY[@]}"
rm -rf "$LOGDIR"
