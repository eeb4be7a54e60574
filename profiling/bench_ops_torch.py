"""PyTorch side of bench_ops: the same conv shapes, printed as 'name milliseconds' lines.

Run by bench_ops with glibc's MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 (PyTorch's fastest setting on
our machines); uses torch's default CPU convolution backend (oneDNN where available)."""
import argparse
import time

import torch
import torch.nn.functional as F


def median_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    ts.sort()
    return ts[len(ts) // 2]


def conv_case(n, cin, cout, h, w, backward, reps):
    x = torch.randn(n, cin, h, w, requires_grad=backward)
    wt = (torch.randn(cout, cin, 3, 3) * 0.1).requires_grad_(backward)
    b = torch.zeros(cout, requires_grad=backward)
    gy = torch.ones(n, cout, h, w)

    def run():
        if backward:
            F.conv2d(x, wt, b, padding=1).backward(gy)
        else:
            with torch.no_grad():
                F.conv2d(x, wt, b, padding=1)
    return median_ms(run, reps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    print("conv_fwd", conv_case(4, 32, 32, 256, 256, False, a.reps))
    print("conv_fwdbwd", conv_case(4, 32, 32, 256, 256, True, a.reps))
    x = torch.randn(4, 64, 128, 128, requires_grad=True)
    wt = (torch.randn(64, 32, 3, 3) * 0.1).requires_grad_()
    b = torch.zeros(32, requires_grad=True)
    gy = torch.ones(4, 32, 256, 256)
    print("convt_fwdbwd", median_ms(lambda: F.conv_transpose2d(x, wt, b, stride=2, padding=1, output_padding=1).backward(gy), a.reps))
    total = 0.0
    cin = 1
    for level in range(4):
        c, hw = 32 << level, 256 >> level
        total += conv_case(4, cin, c, hw, hw, True, max(1, a.reps // 2))
        for _ in range(9):
            total += conv_case(4, c, c, hw, hw, True, max(1, a.reps // 2))
        cin = c
    total += conv_case(4, 256, 512, 16, 16, True, max(1, a.reps // 2))
    for _ in range(4):
        total += conv_case(4, 512, 512, 16, 16, True, max(1, a.reps // 2))
    print("stack_fwdbwd", total)


if __name__ == "__main__":
    main()
