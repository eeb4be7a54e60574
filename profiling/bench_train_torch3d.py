"""PyTorch side of bench_train for paper 3's 3-D networks: the same definitions as models/unet3d.h, models/vnet.h,
models/segresnet.h and the edge stream of models/egcnn.h, the same loss (Dice of the softmax; with --edge the full
eq. (3) of losses/egcnn_losses.h: + edge Dice + balanced BCE + dual-task L1 of Sobel gradient magnitudes of a Gumbel
sample), same batch, size and threads. Prints 'ms_per_step X', 'min_ms Y', 'cpu_ms_per_step Z' (process CPU time,
all threads: steadier than wall time on a loaded machine) and 'parameters N'.
Run by bench_train with glibc told to keep freed memory (see profiling/bench_util.h)."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def groups(c, g=8):
    for k in range(min(c, g), 1, -1):
        if c % k == 0:
            return k
    return 1


def cna(cin, cout, k=3, bias=False, act="relu"):
    layers = [nn.Conv3d(cin, cout, k, padding=k // 2, bias=bias), nn.GroupNorm(groups(cout), cout)]
    if act == "relu":
        layers.append(nn.ReLU(inplace=True))
    elif act == "prelu":
        layers.append(nn.PReLU(cout))
    return nn.Sequential(*layers)


class UNet3d(nn.Module):
    def __init__(self, cin, k, w, levels, extra):
        super().__init__()
        ws = [w << l for l in range(levels)]
        self.enc = nn.ModuleList()
        c = cin
        for x in ws:
            self.enc.append(nn.Sequential(cna(c, x), cna(x, x)))
            c = x
        self.up, self.dec = nn.ModuleList(), nn.ModuleList()
        for x in reversed(ws[:-1]):
            self.up.append(nn.ConvTranspose3d(c, x, 2, stride=2))
            self.dec.append(nn.Sequential(cna(2 * x, x), cna(x, x)))
            c = x
        self.head = nn.Conv3d(ws[0] + extra, k, 1)
        self.enc_ch, self.first_ch = ws, ws[-2]

    def features(self, x):
        enc = []
        for i, e in enumerate(self.enc):
            if i:
                x = F.max_pool3d(x, 2)
            x = e(x)
            enc.append(x)
        first = None
        for i, (u, d) in enumerate(zip(self.up, self.dec)):
            x = d(torch.cat([u(x), enc[-2 - i]], 1))
            if i == 0:
                first = x
        return enc, first, x


class VStage(nn.Module):
    def __init__(self, cin, w, n, k):
        super().__init__()
        self.convs = nn.Sequential(*[cna(cin if j == 0 else w, w, k, True, "prelu" if j + 1 < n else None)
                                     for j in range(n)])
        self.act = nn.PReLU(w)

    def forward(self, x, res):
        return self.act(self.convs(x) + res)


class VNet(nn.Module):
    def __init__(self, cin, k, w, levels, extra, kernel=5):
        super().__init__()
        mil = [1, 1, 2, 3, 3]
        down = [mil[min(l, 4)] for l in range(levels)]
        up = [down[levels - 2 - j] for j in range(levels - 1)]
        ws = [w << l for l in range(levels)]
        self.w = w
        self.down, self.enc = nn.ModuleList(), nn.ModuleList()
        for l in range(levels):
            if l:
                self.down.append(nn.Sequential(nn.Conv3d(ws[l - 1], ws[l], 2, stride=2), nn.GroupNorm(groups(ws[l]), ws[l]),
                                               nn.PReLU(ws[l])))
            self.enc.append(VStage(cin if l == 0 else ws[l], ws[l], down[l], kernel))
        self.up, self.dec = nn.ModuleList(), nn.ModuleList()
        c = ws[-1]
        for j in range(levels - 1):
            l = levels - 2 - j
            self.up.append(nn.Sequential(nn.ConvTranspose3d(c, ws[l], 2, stride=2), nn.GroupNorm(groups(ws[l]), ws[l]),
                                         nn.PReLU(ws[l])))
            self.dec.append(VStage(2 * ws[l], 2 * ws[l], up[j], kernel))
            c = 2 * ws[l]
        self.head = nn.Sequential(nn.Conv3d(2 * w + extra, k, kernel, padding=kernel // 2), nn.PReLU(k), nn.Conv3d(k, k, 1))
        self.enc_ch, self.first_ch = ws, 2 * ws[-2]

    def features(self, x):
        reps = [x] * (self.w // x.shape[1])
        if self.w % x.shape[1]:
            reps.append(x[:, : self.w % x.shape[1]])
        h = self.enc[0](x, torch.cat(reps, 1))
        enc = [h]
        for l in range(1, len(self.enc)):
            d = self.down[l - 1](h)
            h = self.enc[l](d, d)
            enc.append(h)
        first = None
        for j, (u, dec) in enumerate(zip(self.up, self.dec)):
            c = torch.cat([u(h), enc[-2 - j]], 1)
            h = dec(c, c)
            if j == 0:
                first = h
        return enc, first, h


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n1, self.n2 = nn.GroupNorm(groups(c), c), nn.GroupNorm(groups(c), c)
        self.c1, self.c2 = nn.Conv3d(c, c, 3, padding=1, bias=False), nn.Conv3d(c, c, 3, padding=1, bias=False)

    def forward(self, x):
        h = self.c1(F.relu(self.n1(x)))
        return self.c2(F.relu(self.n2(h))) + x


class SegResNet(nn.Module):
    def __init__(self, cin, k, f, levels, extra):
        super().__init__()
        mon = [1, 2, 2, 4]
        fs = [f << l for l in range(levels)]
        self.init = nn.Conv3d(cin, f, 3, padding=1, bias=False)
        self.down = nn.ModuleList()
        for l in range(levels):
            pre = [nn.Conv3d(fs[l - 1], fs[l], 3, stride=2, padding=1, bias=False)] if l else []
            self.down.append(nn.Sequential(*pre, *[ResBlock(fs[l]) for _ in range(mon[min(l, 3)])]))
        self.upc, self.upb = nn.ModuleList(), nn.ModuleList()
        for l in range(levels - 2, -1, -1):
            self.upc.append(nn.Conv3d(fs[l + 1], fs[l], 1, bias=False))
            self.upb.append(ResBlock(fs[l]))
        self.head_gn = nn.GroupNorm(groups(f + extra), f + extra)
        self.head_conv = nn.Conv3d(f + extra, k, 1)
        self.enc_ch, self.first_ch = fs, fs[-2]

    def features(self, x):
        x = self.init(x)
        enc = []
        for d in self.down:
            x = d(x)
            enc.append(x)
        first = None
        for j, (c, b) in enumerate(zip(self.upc, self.upb)):
            x = b(F.interpolate(c(x), scale_factor=2, mode="trilinear", align_corners=False) + enc[-2 - j])
            if j == 0:
                first = x
        return enc, first, x

    def head(self, x):
        return self.head_conv(F.relu(self.head_gn(x)))


class EdgeRes(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.a, self.b = cna(cin, c), cna(c, c, act=None)
        self.proj = nn.Conv3d(cin, c, 1, bias=False) if cin != c else None

    def forward(self, x):
        return F.relu(self.b(self.a(x)) + (self.proj(x) if self.proj is not None else x))


class Gate(nn.Module):
    def __init__(self, ce, cm):
        super().__init__()
        self.we, self.wm, self.wa, self.wo = nn.Conv3d(ce, ce, 1), nn.Conv3d(cm, ce, 1), nn.Conv3d(ce, 1, 1), nn.Conv3d(ce, ce, 1)

    def forward(self, e, m):
        a = torch.sigmoid(self.wa(F.relu(self.we(e) + self.wm(m))))
        return self.wo(e * a + e)


class EdgeStream(nn.Module):
    def __init__(self, enc_ch, first_ch, ce, out):
        super().__init__()
        L = len(enc_ch)
        self.res, self.gates = nn.ModuleList(), nn.ModuleList()
        c = first_ch
        for g in range(L - 2):
            self.res.append(EdgeRes(c, ce))
            self.gates.append(Gate(ce, enc_ch[L - 3 - g]))
            c = ce
        self.out = nn.Conv3d(ce, out, 1)

    def forward(self, enc, first):
        e = first
        L = len(enc)
        for g, (r, gate) in enumerate(zip(self.res, self.gates)):
            e = F.interpolate(r(e), scale_factor=2, mode="trilinear", align_corners=False)
            e = gate(e, enc[L - 3 - g])
        return e, self.out(e)


class Net3d(nn.Module):
    def __init__(self, name, cin, k, w, levels, edge, ce):
        super().__init__()
        extra = ce if edge else 0
        if name == "unet3d":
            self.b = UNet3d(cin, k, w, levels or 4, extra)
        elif name == "vnet":
            self.b = VNet(cin, k, w, levels or 5, extra)
        else:
            self.b = SegResNet(cin, k, w, levels or 4, extra)
        self.stream = EdgeStream(self.b.enc_ch, self.b.first_ch, ce, 1) if edge else None

    def head(self, x):
        return self.b.head(x)

    def forward(self, x):
        enc, first, last = self.b.features(x)
        if self.stream is None:
            return self.head(last), None
        ef, el = self.stream(enc, first)
        return self.head(torch.cat([last, ef], 1)), el


def dice(p, t, eps=1e-5):
    dims = [0] + list(range(2, p.dim()))
    return 1 - ((2 * (p * t).sum(dims) + eps) / (p.sum(dims) + t.sum(dims) + eps)).mean()


def bbce(x, t):
    beta = (t == 0).sum().to(x.dtype) / t.numel()
    return -(beta * (t * F.logsigmoid(x)).sum() + (1 - beta) * ((1 - t) * F.logsigmoid(-x)).sum()) / t.numel()


_d = torch.tensor([-1.0, 0.0, 1.0])
_s = torch.tensor([1.0, 2.0, 1.0])
SOBEL = torch.stack([torch.einsum("a,b,c->abc", _d, _s, _s), torch.einsum("a,b,c->abc", _s, _d, _s),
                     torch.einsum("a,b,c->abc", _s, _s, _d)]) / 16.0


def grad_mag(q, eps=1e-6):
    n, c = q.shape[:2]
    w = SOBEL.repeat(c, 1, 1, 1).unsqueeze(1)
    g = F.conv3d(q, w, padding=1, groups=c).view(n, c, 3, *q.shape[2:])
    return torch.sqrt((g ** 2).sum(2) + eps)


def edge_target(y):
    fg = y[:, 1:]
    c = fg.shape[1]
    w = SOBEL.repeat(c, 1, 1, 1).unsqueeze(1)
    g = F.conv3d(fg, w, padding=1, groups=c).view(fg.shape[0], c, 3, *fg.shape[2:])
    return (g.abs().sum(2) > 0).any(1, keepdim=True).float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="unet3d")
    ap.add_argument("--edge", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--in_channels", type=int, default=1)
    ap.add_argument("--classes", type=int, default=2)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--levels", type=int, default=0)
    ap.add_argument("--edge_width", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Net3d(a.model, a.in_channels, a.classes, a.width, a.levels, a.edge, a.edge_width)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    S = a.size
    x = torch.rand(a.batch, a.in_channels, S, S, S)
    z = torch.arange(S).view(1, S, 1, 1).expand(a.batch, S, S, S)
    yy = torch.arange(S).view(1, 1, S, 1).expand(a.batch, S, S, S)
    lab = ((z - S // 2) ** 2 + (yy - S // 2) ** 2 < (S // 4) ** 2).long() * (1 + (z > S // 2).long())
    lab = lab.clamp(max=a.classes - 1)
    y = F.one_hot(lab, a.classes).movedim(-1, 1).float()
    et = edge_target(y)

    def step():
        logits, el = model(x)
        loss = dice(F.softmax(logits, 1), y)
        if el is not None:
            g = -torch.log(-torch.log(torch.rand_like(logits).clamp(1e-12, 1 - 1e-12)))
            sample = F.softmax((logits + g) / 0.5, 1)
            loss = loss + dice(torch.sigmoid(el), et) + bbce(el, et) + (grad_mag(sample) - grad_mag(y)).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    ts, cs = [], []
    for _ in range(a.steps):
        s, c = time.perf_counter(), time.process_time()
        step()
        ts.append((time.perf_counter() - s) * 1e3)
        cs.append((time.process_time() - c) * 1e3)
    ts.sort()
    cs.sort()
    print("ms_per_step", ts[len(ts) // 2])
    print("min_ms", ts[0])
    print("cpu_ms_per_step", cs[len(cs) // 2])
    print("parameters", sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
