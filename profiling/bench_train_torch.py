"""PyTorch side of bench_train: the same model (residual U-Net, models/residual_unet.h; ENet, models/enet.h; paper 2's
U-Net-BN and 4-layer CNN, models/unet_bn.h and models/small_cnn.h; paper 4's multi-task U-Net, models/multitask_unet.h,
from multitask_torch.py), same batch, size, threads, optimiser and synthetic labels. The ENet class here is
also the twin tests/models/test_enet.cpp checks ours against.

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


# ---- ENet (models/enet.h): the shape-descriptor authors' variant, 460,845 parameters for 2 classes ----
def cbp(cin, cout, k=1, pad=0, dil=1, bias=True):
    """conv → BatchNorm → PReLU (one shared slope)."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=pad, dilation=dil, bias=bias), nn.BatchNorm2d(cout), nn.PReLU())


class Bottleneck(nn.Module):
    """kind: down | regular | dilated | asym | last | up (see models/enet.h)."""

    def __init__(self, kind, cin, cout, p, dil=1, spatial=True):
        super().__init__()
        m = cin // 4
        self.kind = kind
        if kind == "down":
            first = nn.Sequential(nn.Conv2d(cin, m, 2, stride=2), nn.BatchNorm2d(m), nn.PReLU())
        elif kind == "up":
            first = cbp(cin, m, 3, 1)
        else:
            first = cbp(cin, m)
        if kind == "asym":
            mid = nn.Sequential(nn.Conv2d(m, m, (5, 1), padding=(2, 0)), nn.Conv2d(m, m, (1, 5), padding=(0, 2)),
                                nn.BatchNorm2d(m), nn.PReLU())
        else:
            mid = cbp(m, m, 3, dil, dil)
        self.branch = nn.Sequential(first, mid, cbp(m, cout))
        self.drop = (nn.Dropout2d if spatial else nn.Dropout)(p)
        # registration order as the authors' code (their parameter lists line up with ours one to one)
        self.main = nn.Conv2d(cin, cout, 3, padding=1) if kind == "last" else None
        self.act = nn.PReLU()  # the upsampling bottleneck owns one it never uses, as the authors' code
        if kind in ("regular", "asym") and cin > cout:
            self.main = cbp(cin, cout)
        self.cin, self.cout = cin, cout

    def forward(self, x):
        b = self.drop(self.branch(x))
        if self.kind == "up":
            return b
        if self.kind == "down":
            mp, idx = F.max_pool2d(x, 2, return_indices=True)
            c = mp.shape[1]
            return self.act(torch.cat([b[:, :c] + mp, b[:, c:]], 1)), idx
        return self.act((self.main(x) if self.main is not None else x) + b)


class ENet(nn.Module):
    def __init__(self, cin, k, spatial=True):
        super().__init__()
        n = 16
        B = lambda *a, **kw: Bottleneck(*a, spatial=spatial, **kw)
        self.conv0 = nn.Conv2d(cin, n - cin, 3, stride=2, padding=1)
        self.stage1 = nn.ModuleList([B("down", n, 4 * n, 0.01)] + [B("regular", 4 * n, 4 * n, 0.01) for _ in range(4)])
        s2 = [B("down", 4 * n, 8 * n, 0.01)]
        for stage in (2, 3):
            s2 += [B("regular", 8 * n, 8 * n, 0.1), B("dilated", 8 * n, 8 * n, 0.01, dil=2), B("asym", 8 * n, 8 * n, 0.1),
                   B("dilated", 8 * n, 8 * n, 0.01, dil=4), B("regular", 8 * n, 8 * n, 0.1),
                   B("dilated", 8 * n, 8 * n, 0.01, dil=8), B("asym", 8 * n, 8 * n, 0.1)]
            s2 += [B("dilated", 8 * n, 8 * n, 0.01, dil=16) if stage == 2 else B("last", 8 * n, 4 * n, 0.01, dil=16)]
        self.stage23 = nn.ModuleList(s2)
        self.up1 = B("up", 8 * n, 4 * n, 0.01)
        self.up1_act = nn.PReLU()
        self.up1_b = nn.Sequential(B("regular", 4 * n, 4 * n, 0.1), B("regular", 4 * n, n, 0.1))
        self.up2 = B("up", 2 * n, n, 0.01)
        self.up2_b = B("regular", n, n, 0.1)
        self.up2_act = nn.PReLU()
        self.head_up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), cbp(n, n, 3, 1, bias=False),
                                     cbp(n, n, 3, 1, bias=False))
        self.out_025 = nn.Conv2d(8 * n, k, 3, padding=1)  # unused heads, kept as the authors' code has them
        self.out_05 = nn.Conv2d(n, k, 3, padding=1)
        self.final = nn.Conv2d(n, k, 1)

    def forward(self, x):
        init = torch.cat([self.conv0(x), F.max_pool2d(x, 2)], 1)
        h, i1 = self.stage1[0](init)
        for b in self.stage1[1:]:
            h = b(h)
        s1 = h
        h, i2 = self.stage23[0](h)
        for b in self.stage23[1:]:
            h = b(h)
        u = F.max_unpool2d(h, i2, 2, output_size=s1.shape[2:])
        h = self.up1_b(self.up1_act(u + self.up1(torch.cat([u, s1], 1))))
        u = F.max_unpool2d(h, i1, 2, output_size=init.shape[2:])
        h = self.up2_act(u + self.up2_b(self.up2(torch.cat([u, init], 1))))
        return self.final(self.head_up(h))


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
    ap.add_argument("--model", default="residual_unet", choices=["residual_unet", "enet", "multitask", "unet_bn", "small_cnn"])
    ap.add_argument("--coordconv", default="none")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variant", default="conv-md")
    ap.add_argument("--infer-size", type=int, default=256)
    ap.add_argument("--infer-reps", type=int, default=20)
    ap.add_argument("--pe", type=float, default=0.0)
    ap.add_argument("--padding", default="zeros")
    ap.add_argument("--width", type=int, default=64)
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

        def loss_of():
            return mt.multitask_loss(model(x), t, tc, td)
    elif a.model in ("unet_bn", "small_cnn"):
        # paper 2: 4 classes (every row's index mod 4), Adam 1e-3 with PyTorch's default betas
        pad = "reflect" if a.padding == "reflect" else "zeros"
        model = (UNetBN if a.model == "unet_bn" else SmallCNN)(1, 4, a.pe, pad, a.width)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
        x = torch.rand(a.batch, 1, a.size, a.size)
        t4 = (torch.arange(a.size).view(1, a.size, 1) % 4).expand(a.batch, a.size, a.size).contiguous()

        def loss_of():
            return F.cross_entropy(model(x), t4)
    else:
        model = ENet(1, 2) if a.model == "enet" else ResidualUNet(1, 2, a.coordconv)
        opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.99))
        x = torch.rand(a.batch, 1, a.size, a.size)

        def loss_of():
            return F.cross_entropy(model(x), t)

    def step():
        loss = loss_of()
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
