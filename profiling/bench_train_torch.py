"""PyTorch side of bench_train: the same models (models/residual_unet.h, models/unet_bn.h, models/small_cnn.h), batch,
size, threads, optimiser and synthetic labels.

Prints 'ms_per_step X' and 'min_ms Y'. Run by bench_train with glibc told to keep freed memory."""
import argparse
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


def pe_channels(x, lam):
    """Paper 2's positional encoding: [x, λ·y/(H−1), λ·x/(W−1)] (the fused op's channel order)."""
    n, _, h, w = x.shape
    ys = torch.linspace(0, lam, h).view(1, 1, h, 1).expand(n, 1, h, w)
    xs = torch.linspace(0, lam, w).view(1, 1, 1, w).expand(n, 1, h, w)
    return torch.cat([x, ys, xs], 1)


def cbr(cin, cout, padding_mode):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, padding_mode=padding_mode), nn.BatchNorm2d(cout), nn.ReLU())


class UNetBN(nn.Module):
    """Paper 2's supplement Table 3 (13,394,372 parameters for 1 input and 4 classes; PE adds 1,152)."""

    def __init__(self, cin, k, lam, padding_mode, w=64):
        super().__init__()
        self.lam = lam
        enc = [w, 2 * w, 4 * w, 8 * w, 8 * w]
        c = cin + (2 if lam > 0 else 0)
        self.enc = nn.ModuleList()
        for e in enc:
            self.enc.append(nn.Sequential(cbr(c, e, padding_mode), cbr(e, e, padding_mode)))
            c = e
        self.dec = nn.ModuleList()
        for i, d in enumerate([4 * w, 2 * w, w, w]):
            c += enc[3 - i]
            self.dec.append(nn.Sequential(cbr(c, d, padding_mode), cbr(d, d, padding_mode)))
            c = d
        self.score = nn.Conv2d(c, k, 1)

    def forward(self, x):
        if self.lam > 0:
            x = pe_channels(x, self.lam)
        skips = []
        for i, e in enumerate(self.enc):
            x = e(x)
            if i < 4:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for i, d in enumerate(self.dec):
            s = skips[3 - i]
            x = F.interpolate(x, size=s.shape[2:], mode="bilinear", align_corners=True)
            x = d(torch.cat([s, x], 1))
        return self.score(x)


class SmallCNN(nn.Module):
    """Paper 2's supplement Table 4 (75,140 parameters for 1 input and 4 classes; PE adds 1,152)."""

    def __init__(self, cin, k, lam, padding_mode, w=64):
        super().__init__()
        self.lam = lam
        c = cin + (2 if lam > 0 else 0)
        self.body = nn.Sequential(cbr(c, w, padding_mode), cbr(w, w, padding_mode), cbr(w, w, padding_mode))
        self.score = nn.Conv2d(w, k, 1)

    def forward(self, x):
        if self.lam > 0:
            x = pe_channels(x, self.lam)
        return self.score(self.body(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--model", default="residual_unet")
    ap.add_argument("--coordconv", default="none")
    ap.add_argument("--pe", type=float, default=0.0)
    ap.add_argument("--padding", default="zeros")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rows = torch.arange(a.size).view(1, a.size, 1)
    if a.model == "residual_unet":
        model = ResidualUNet(1, 2, a.coordconv)
        opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.99))
        t = (rows % 7 == 0).long()
    else:
        pad = "reflect" if a.padding == "reflect" else "zeros"
        model = (UNetBN if a.model == "unet_bn" else SmallCNN)(1, 4, a.pe, pad, a.width)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
        t = (rows % 4).long()
    t = t.expand(a.batch, a.size, a.size).contiguous()
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


if __name__ == "__main__":
    main()
