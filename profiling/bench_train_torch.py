"""PyTorch side of bench_train: the same model (residual U-Net of models/residual_unet.h, or paper 4's multi-task U-Net
of models/multitask_unet.h from multitask_torch.py), same batch, size and threads.

Prints 'ms_per_step X', 'min_ms Y', 'parameters P' (multitask also 'infer_ms', 'infer_min_ms': one image, no grad).
Run by bench_train with glibc told to keep freed memory."""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CoordConv2d(nn.Conv2d):
    def __init__(self, cin, cout, k, coord, **kw):
        super().__init__(cin + (2 if coord else 0), cout, k, **kw)
        self.coord = coord

    def forward(self, x):
        if self.coord:
            n, _, h, w = x.shape
            ys = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(n, 1, h, w)
            xs = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(n, 1, h, w)
            x = torch.cat([x, ys, xs], 1)
        return super().forward(x)


def cba(cin, cout, act, coord):
    layers = [CoordConv2d(cin, cout, 3, coord, padding=1), nn.BatchNorm2d(cout)]
    if act == 1:
        layers.append(nn.ReLU())
    elif act == 2:
        layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class Block(nn.Module):
    def __init__(self, cin, cout, act, cf, cr):
        super().__init__()
        self.c1 = cba(cin, cout, act, cf)
        self.c2 = nn.Sequential(cba(cout, cout, act, cr), cba(cout, cout, act, cr), cba(cout, cout, 0, cr))
        self.c3 = cba(cout, cout, act, cr)

    def forward(self, x):
        c1 = self.c1(x)
        return self.c3(c1 + self.c2(c1))


class ResidualUNet(nn.Module):
    def __init__(self, cin, k, coord):
        super().__init__()
        enc = coord in ("enc", "all")
        al = coord == "all"
        w = [32, 64, 128, 256]
        self.down = nn.ModuleList()
        c = cin
        for i in range(4):
            self.down.append(Block(c, w[i], 2, enc or (i == 0 and coord == "1st"), enc))
            c = w[i]
        self.bridge = Block(c, 512, 2, enc, enc)
        c = 512
        self.deconv, self.up = nn.ModuleList(), nn.ModuleList()
        for i in range(3, -1, -1):
            self.deconv.append(nn.Sequential(nn.ConvTranspose2d(c + (2 if al else 0), w[i], 3, stride=2, padding=1, output_padding=1),
                                             nn.BatchNorm2d(w[i]), nn.ReLU()))
            self.up.append(Block(w[i], w[i], 1, al, al))
            c = w[i]
        self.head = CoordConv2d(32, k, 3, al, padding=1)
        self.al = al

    def forward(self, x):
        skips = []
        for d in self.down:
            x = d(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bridge(x)
        for i, (dc, up) in enumerate(zip(self.deconv, self.up)):
            if self.al:
                n, _, h, w = x.shape
                ys = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(n, 1, h, w)
                xs = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(n, 1, h, w)
                x = torch.cat([x, ys, xs], 1)
            x = up((dc(x) + skips[-1 - i]) / 2)
        return self.head(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--coordconv", default="none")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="residual_unet")
    ap.add_argument("--variant", default="conv-md")
    ap.add_argument("--infer-size", type=int, default=256)
    ap.add_argument("--infer-reps", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rows = (torch.arange(a.size).view(1, a.size, 1) % 7).expand(a.batch, a.size, a.size).contiguous()
    t = (rows == 0).long()
    if a.model == "multitask":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import multitask_torch as mt
        model = mt.MultitaskUNet(a.variant)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        x = torch.rand(a.batch, 3, a.size, a.size)
        tc = (rows == 1).long()
        td = (torch.arange(a.size).float() / a.size).view(1, 1, 1, a.size).expand(a.batch, 1, a.size, a.size).contiguous()

        def step():
            loss = mt.multitask_loss(model(x), t, tc, td)
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        model = ResidualUNet(1, 2, a.coordconv)
        opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.99))
        x = torch.rand(a.batch, 1, a.size, a.size)

        def step():
            loss = F.cross_entropy(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()

    for _ in range(2):
        step()
    ts = []
    for _ in range(a.steps):
        s = time.perf_counter()
        step()
        ts.append((time.perf_counter() - s) * 1e3)
    ts.sort()
    print("ms_per_step", ts[len(ts) // 2])
    print("min_ms", ts[0])
    print("parameters", sum(p.numel() for p in model.parameters()))
    if a.model == "multitask":
        model.eval()
        xi = torch.rand(1, 3, a.infer_size, a.infer_size)
        ts = []
        with torch.no_grad():
            for i in range(3 + a.infer_reps):
                s = time.perf_counter()
                model(xi)
                if i >= 3:
                    ts.append((time.perf_counter() - s) * 1e3)
        ts.sort()
        print("infer_ms", ts[len(ts) // 2])
        print("infer_min_ms", ts[0])


if __name__ == "__main__":
    main()
