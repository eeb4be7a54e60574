"""PyTorch eager on the GPU for the issue's training-step benchmark: the residual U-Net of bench_train_torch.py
(imported, so both PyTorch figures time the same model), batch 4, 1x256x256, cross entropy, Adam, cuDNN with
benchmark mode. Run by profiling/gpu_check.sh next to `bench_train --device cuda --batch 4 --size 256`.

Prints 'ms_per_step X', 'min_ms Y', 'peak_mib Z' and the TF32 setting (PyTorch allows TF32 in convolutions by
default; our cuDNN path does only with SEG_TF32=1)."""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train_torch import ResidualUNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--no-tf32", action="store_true", help="disable TF32 in cuDNN convolutions (our default)")
    a = ap.parse_args()
    if not torch.cuda.is_available():
        print("no GPU: torch.cuda.is_available() is False")
        return
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = not a.no_tf32
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model = ResidualUNet(1, 2, "none").to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.99))
    x = torch.rand(a.batch, 1, a.size, a.size, device=dev)
    t = (torch.arange(a.size, device=dev).view(1, a.size, 1) % 7 == 0).long().expand(a.batch, a.size, a.size).contiguous()

    def step():
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    ts = []
    for _ in range(a.steps):
        s = time.perf_counter()
        step()
        torch.cuda.synchronize()
        ts.append((time.perf_counter() - s) * 1e3)
    ts.sort()
    print("ms_per_step", ts[len(ts) // 2])
    print("min_ms", ts[0])
    print("peak_mib", torch.cuda.max_memory_allocated() / 2**20)
    print("tf32", int(torch.backends.cudnn.allow_tf32))


if __name__ == "__main__":
    main()
