"""opcheck cases for the project's own ops, with reference implementations written straight from the definitions in
docs/opcheck-format.md (second table). Imported by gen_cases.py: ops(torch) -> {op: fn(inputs, attrs)},
cases(torch) -> [{name, op, attrs, inputs, grads?}].
Key decision: each reference follows the spec text literally (coordinate channels then a plain conv; Sobel as a
grouped conv3d with the outer-product filters; the Laplacian as a sum over neighbour-pair differences), so it checks
the engine's fused/optimised kernels against the definition, not against a second copy of the same algorithm.
"""
import itertools


def ops(torch):
    F = torch.nn.functional

    def coords(x, lo, hi):
        """Y (rows, along H) and X (columns, along W) channels on x's grid, shape (N, 1, H, W) each."""
        n, _, h, w = x.shape
        i = torch.arange(h, dtype=x.dtype).view(h, 1).expand(h, w)
        j = torch.arange(w, dtype=x.dtype).view(1, w).expand(h, w)
        y = lo + (hi - lo) * i / (h - 1)
        xx = lo + (hi - lo) * j / (w - 1)
        return y.expand(n, 1, h, w), xx.expand(n, 1, h, w)

    def with_coords(x, a):
        lo, hi = a.get("coord_range", [-1.0, 1.0])
        y, xx = coords(x, lo, hi)
        return torch.cat([x, y, xx], dim=1)

    def coordconv2d(i, a):
        x = with_coords(i["input"], a)
        padding = a.get("padding", 0)
        if a.get("padding_mode", "zeros") == "reflect":
            p = [padding] * 2 if isinstance(padding, int) else list(padding)
            x = F.pad(x, [p[1], p[1], p[0], p[0]], mode="reflect")
            padding = 0
        return F.conv2d(x, i["weight"], i.get("bias"), stride=a.get("stride", 1), padding=padding,
                        dilation=a.get("dilation", 1))

    def coordconv_transpose2d(i, a):
        x = with_coords(i["input"], a)
        return F.conv_transpose2d(x, i["weight"], i.get("bias"), stride=a.get("stride", 1),
                                  padding=a.get("padding", 0), output_padding=a.get("output_padding", 0),
                                  dilation=a.get("dilation", 1))

    d = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
    s = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)

    def sobel2d(i, a):
        x = i["input"]
        c = x.shape[1]
        ky = torch.einsum("a,b->ab", d, s)  # derivative along H (rows), smoothing along W
        kx = torch.einsum("a,b->ab", s, d)
        w = torch.stack([ky, kx]).repeat(c, 1, 1).unsqueeze(1).to(x.dtype)  # (2C, 1, 3, 3): [gy, gx] per channel
        return F.conv2d(x, w, padding=1, groups=c)

    def sobel3d(i, a):
        x = i["input"]
        c = x.shape[1]
        kz = torch.einsum("a,b,c->abc", d, s, s)
        ky = torch.einsum("a,b,c->abc", s, d, s)
        kx = torch.einsum("a,b,c->abc", s, s, d)
        w = torch.stack([kz, ky, kx]).repeat(c, 1, 1, 1).unsqueeze(1).to(x.dtype)  # (3C, 1, 3, 3, 3)
        return F.conv3d(x, w, padding=1, groups=c)

    def moments2d(i, a):
        p = i["input"]
        h, w = p.shape[-2:]
        y = torch.arange(h, dtype=p.dtype).view(h, 1)
        x = torch.arange(w, dtype=p.dtype).view(1, w)
        terms = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]  # exponents of (x, y)
        return torch.stack([(p * x ** e[0] * y ** e[1]).sum(dim=(-2, -1)) for e in terms], dim=-1)

    def moments3d(i, a):
        p = i["input"]
        dd, h, w = p.shape[-3:]
        z = torch.arange(dd, dtype=p.dtype).view(dd, 1, 1)
        y = torch.arange(h, dtype=p.dtype).view(1, h, 1)
        x = torch.arange(w, dtype=p.dtype).view(1, 1, w)
        terms = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (2, 0, 0), (0, 2, 0), (0, 0, 2), (1, 1, 0), (1, 0, 1),
                 (0, 1, 1)]  # exponents of (x, y, z)
        return torch.stack([(p * x ** e[0] * y ** e[1] * z ** e[2]).sum(dim=(-3, -2, -1)) for e in terms], dim=-1)

    def laplacian_quadratic(i, a):
        p = i["input"]
        nd = p.dim() - 2
        conn = a["connectivity"]
        offsets = [o for o in itertools.product((-1, 0, 1), repeat=nd) if any(o)]
        offsets = [o for o in offsets if next(v for v in o if v) > 0]  # one of each unordered pair
        if (nd, conn) in ((2, 4), (3, 6)):
            offsets = [o for o in offsets if sum(map(abs, o)) == 1]
        else:
            assert (nd, conn) in ((2, 8), (3, 26)), (nd, conn)
        total = 0
        for o in offsets:
            sa, sb = [slice(None)] * 2, [slice(None)] * 2
            for k, v in enumerate(o):
                size = p.shape[2 + k]
                sa.append(slice(max(0, -v), size - max(0, v)))
                sb.append(slice(max(0, v), size - max(0, -v)))
            diff = p[tuple(sa)] - p[tuple(sb)]
            total = total + (diff ** 2).sum(dim=tuple(range(2, 2 + nd)))
        return total

    def balanced_bce_with_logits(i, a):
        x, t = i["input"], i["target"]
        n = x.numel()
        beta = (t == 0).sum().to(x.dtype) / n
        pos = (F.logsigmoid(x) * (t == 1)).sum()
        neg = (F.logsigmoid(-x) * (t == 0)).sum()
        return -(beta * pos + (1 - beta) * neg) / n

    def dice_loss(i, a):
        p, g = i["input"], i["target"]
        eps = a.get("eps", 1e-6)
        dims = [0] + list(range(2, p.dim()))
        inter = (p * g).sum(dim=dims)
        return 1 - ((2 * inter + eps) / (p.sum(dim=dims) + g.sum(dim=dims) + eps)).mean()

    def size_penalty(i, a):
        p, b = i["input"], i["bounds"]
        h, w = p.shape[-2:]
        v = p.sum(dim=(-2, -1))
        lo, hi = b[..., 0], b[..., 1]
        zero = torch.zeros_like(v)
        c = torch.where(v < lo, (v - lo) ** 2, torch.where(v > hi, (v - hi) ** 2, zero))
        return (c / (h * w)).mean()

    def log_barrier(i, a):
        z, t = i["input"], float(a["t"])
        thr = -1.0 / t ** 2
        inside = z <= thr
        safe = torch.where(inside, z, -torch.ones_like(z))  # keeps log finite in the unused branch (and its grad)
        import math
        return torch.where(inside, -torch.log(-safe) / t, t * z - math.log(1.0 / t ** 2) / t + 1.0 / t)

    return {
        "coordconv2d": coordconv2d, "coordconv_transpose2d": coordconv_transpose2d,
        "sobel2d": sobel2d, "sobel3d": sobel3d, "moments2d": moments2d, "moments3d": moments3d,
        "laplacian_quadratic": laplacian_quadratic, "balanced_bce_with_logits": balanced_bce_with_logits,
        "dice_loss": dice_loss, "size_penalty": size_penalty, "log_barrier": log_barrier,
    }


def cases(torch):
    g = torch.Generator().manual_seed(1234)
    F = torch.nn.functional

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    def rand(*shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)

    def C(name, op, attrs, grads=None, **inputs):
        c = {"name": name, "op": op, "attrs": attrs, "inputs": inputs}
        if grads is not None:
            c["grads"] = grads
        return c

    def onehot(n, k, *spatial):
        lab = torch.randint(0, k, (n,) + spatial, generator=g)
        return F.one_hot(lab, k).movedim(-1, 1).to(torch.float64)

    out = []
    cc = [
        ("plain", (2, 3, 7, 6), (4, 5, 3, 3), dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1], padding_mode="zeros",
                                                    coord_range=[-1.0, 1.0]), True),
        ("pos_enc", (1, 2, 5, 9), (3, 4, 3, 3), dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1], padding_mode="zeros",
                                                     coord_range=[0.0, 4.0]), True),
        ("reflect", (1, 2, 6, 5), (2, 4, 3, 3), dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1],
                                                     padding_mode="reflect", coord_range=[-1.0, 1.0]), False),
        ("1x1", (2, 1, 4, 3), (2, 3, 1, 1), dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1], padding_mode="zeros",
                                                 coord_range=[-1.0, 1.0]), True),
    ]
    for tag, xs, ws, attrs, bias in cc:
        inp = dict(input=randn(*xs), weight=randn(*ws, scale=0.5))
        if bias:
            inp["bias"] = randn(ws[0])
        out.append(C("coordconv2d_" + tag, "coordconv2d", attrs, **inp))
    ct = [
        ("up2", (1, 3, 4, 5), (5, 2, 2, 2), dict(stride=[2, 2], padding=[0, 0], output_padding=[0, 0], dilation=[1, 1],
                                                 coord_range=[-1.0, 1.0]), True),
        ("s2p1op1", (2, 2, 3, 4), (4, 3, 3, 3), dict(stride=[2, 2], padding=[1, 1], output_padding=[1, 1],
                                                     dilation=[1, 1], coord_range=[0.0, 2.0]), False),
    ]
    for tag, xs, ws, attrs, bias in ct:
        inp = dict(input=randn(*xs), weight=randn(*ws, scale=0.5))
        if bias:
            inp["bias"] = randn(ws[1])
        out.append(C("coordconv_transpose2d_" + tag, "coordconv_transpose2d", attrs, **inp))

    out.append(C("sobel2d_c1", "sobel2d", {}, input=randn(2, 1, 7, 6)))
    out.append(C("sobel2d_c3", "sobel2d", {}, input=randn(1, 3, 5, 8)))
    out.append(C("sobel3d_c1", "sobel3d", {}, input=randn(1, 1, 5, 6, 7)))
    out.append(C("sobel3d_c2", "sobel3d", {}, input=randn(2, 2, 3, 5, 4)))

    out.append(C("moments2d", "moments2d", {}, input=F.softmax(randn(2, 3, 7, 9), 1)))
    out.append(C("moments2d_small", "moments2d", {}, input=rand(1, 2, 3, 5)))
    out.append(C("moments3d", "moments3d", {}, input=F.softmax(randn(1, 3, 5, 4, 6), 1)))
    out.append(C("moments3d_small", "moments3d", {}, input=rand(2, 1, 3, 3, 2)))

    for conn, shape in [(4, (2, 3, 7, 6)), (8, (1, 2, 5, 7)), (6, (1, 2, 4, 5, 3)), (26, (2, 1, 3, 4, 5))]:
        out.append(C("laplacian_quadratic_c%d" % conn, "laplacian_quadratic", {"connectivity": conn},
                     input=rand(*shape)))

    for tag, shape, frac in [("4d", (2, 1, 7, 6), 0.2), ("5d", (1, 2, 3, 4, 5), 0.5)]:
        t = (torch.rand(*shape, generator=g) < frac).to(torch.float64)
        out.append(C("balanced_bce_with_logits_" + tag, "balanced_bce_with_logits", {}, grads=["input"],
                     input=randn(*shape, scale=2.0), target=t))

    for tag, shape, eps in [("2d", (2, 3, 7, 6), 1e-6), ("3d", (1, 4, 3, 5, 4), 1.0)]:
        p = F.softmax(randn(*shape), 1)
        out.append(C("dice_loss_" + tag, "dice_loss", {"eps": eps}, grads=["input"], input=p,
                     target=onehot(shape[0], shape[1], *shape[2:])))

    p = rand(2, 3, 5, 4)  # V per (n, k) around 10 (0..20): bounds below, inside and above it
    b = torch.tensor([[[2.0, 6.0], [1.0, 30.0], [12.0, 15.0]], [[0.0, 3.0], [9.0, 11.5], [25.0, 40.0]]],
                     dtype=torch.float64)
    out.append(C("size_penalty", "size_penalty", {}, grads=["input"], input=p, bounds=b))
    p = rand(1, 2, 3, 7)
    b = torch.tensor([[[0.0, 5.0], [15.0, 20.0]]], dtype=torch.float64)
    out.append(C("size_penalty_small", "size_penalty", {}, grads=["input"], input=p, bounds=b))

    for t in (1.0, 5.0):
        z = randn(3, 4, 5, scale=2.0)
        z = torch.where((z + 1.0 / t ** 2).abs() < 1e-3, z - 0.01, z)  # away from the switch point
        out.append(C("log_barrier_t%g" % t, "log_barrier", {"t": t}, input=z))
    return out
