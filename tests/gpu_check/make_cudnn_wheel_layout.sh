#!/usr/bin/env bash
# make_cudnn_wheel_layout.sh VENV TOOLKIT_LIB_DIR TOOLKIT_INCLUDE_DIR: makes VENV look like the GPU node's PyTorch
# venv as far as cuDNN goes — the nvidia-cudnn pip wheel's layout, VENV/lib/python3.12/site-packages/nvidia/cudnn/
# {include,lib}, with only versioned libraries (libcudnn.so.9 and its libcudnn_*.so.9; no libcudnn.so) — from the
# toolkit's cuDNN. libcudnn.so.9 and the headers are copied; the large sub-libraries (loaded by libcudnn.so.9 from its
# own folder, RUNPATH $ORIGIN) are symbolic links. cudnn_version.h gets a marker line (SEG_CUDNN_WHEEL_COPY), so a
# compile can prove which header it read. Used by tests/gpu_check and `profiling/gpu_check.sh --rehearse`.
set -euo pipefail
venv=$1 lib=$2 inc=$3
[ -f "$lib/libcudnn.so.9" ] || { echo "make_cudnn_wheel_layout: no $lib/libcudnn.so.9" >&2; exit 1; }
[ -f "$inc/cudnn.h" ] || { echo "make_cudnn_wheel_layout: no $inc/cudnn.h" >&2; exit 1; }
w="$venv/lib/python3.12/site-packages/nvidia/cudnn"
rm -rf "$w"
mkdir -p "$w/include" "$w/lib" "$venv/bin"
cp "$inc"/cudnn*.h "$w/include/"
printf '\n#define SEG_CUDNN_WHEEL_COPY 1  /* added by make_cudnn_wheel_layout.sh */\n' >> "$w/include/cudnn_version.h"
cp -L "$lib/libcudnn.so.9" "$w/lib/"
for f in "$lib"/libcudnn_*.so.9; do ln -s "$(readlink -f "$f")" "$w/lib/$(basename "$f")"; done
touch "$w/__init__.py"
echo "$w"
