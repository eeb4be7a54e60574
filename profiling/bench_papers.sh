#!/usr/bin/env bash
# bench_papers.sh [BUILD_DIR] [OUT.md]: one bench_train run per paper model (ours beside the PyTorch twin of the same
# definition, loss and optimiser, same machine, same threads) collected into one Markdown report with the machine's
# facts. Sizes are kept small enough for a 2-core CPU (about 10 minutes in all); compare ours/PyTorch ratios only.
# Key decision: the report records the exact command of every row, so any row can be rerun alone.
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-profiling/reports/bench_papers_$(date +%Y-%m-%d).md}
BENCH="$BUILD/profiling/bench_train"
[ -x "$BENCH" ] || { echo "bench_papers: $BENCH not found (build the project first)" >&2; exit 1; }
runs=(
  "paper 1/5: residual U-Net|--model residual_unet --size 128 --batch 4 --steps 5"
  "paper 5: ENet|--model enet --size 128 --batch 8 --steps 5"
  "paper 2: U-Net-BN (PE λ 256)|--model unet_bn --pe 256 --size 128 --batch 4 --steps 3"
  "paper 2: 4-layer CNN (PE λ 256)|--model small_cnn --pe 256 --size 256 --batch 4 --steps 5"
  "paper 4: multi-task U-Net, 1Enc1Dec M|--model multitask --variant m --size 128 --batch 2 --steps 3 --infer-reps 5"
  "paper 4: multi-task U-Net, 1Enc1Dec+Conv MD|--model multitask --variant conv-md --size 128 --batch 2 --steps 3 --infer-reps 5"
  "paper 3: 3-D U-Net (GN)|--model unet3d --size 32 --steps 3"
  "paper 3: 3-D U-Net + EG-CNN edge stream|--model unet3d --edge --size 32 --steps 3"
  "paper 3: SegResNet|--model segresnet --size 32 --steps 3"
  "paper 3: V-Net (GN)|--model vnet --size 32 --steps 3"
)
tmp=$(mktemp)
{
  echo "# bench_train for every paper's model — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown). Environment: OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-default}."
  echo "Each row: \`$BENCH <args>\`; ours and PyTorch (Debian's python3-torch) time full training steps (forward, loss,"
  echo "backward, Adam) after warm-up on the same synthetic batch; only the ours/PyTorch ratio is meaningful on a shared machine."
  echo
  for r in "${runs[@]}"; do
    name=${r%%|*}; args=${r#*|}
    echo "## $name"
    echo
    echo "\`bench_train $args\`"
    echo
    if "$BENCH" $args > "$tmp" 2>&1; then
      sed -n '/^| impl/,$p' "$tmp" | grep -v '^ms_per_step\|^infer_ms'
      grep '^bench_train:' "$tmp" | sed 's/^/    /'
    else
      echo "FAILED:"; sed 's/^/    /' "$tmp" | tail -5
    fi
    echo
  done
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
rm -f "$tmp"
echo "bench_papers: wrote $OUT"
