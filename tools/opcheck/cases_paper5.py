"""Reference cases for paper 5's composed descriptor loss (losses/descriptor_loss.h), read by gen_cases.py.

op `descriptor_loss` (defined in docs/opcheck-format.md): softmax of the logits `input` (N, K, H, W) over dim 1; for the
constrained classes (attr `classes`), S = Σp, C = Σp·x/(Σp + ε), D = sqrt(max(Σp·x²/(Σp + ε) − C², 0) + ε) per axis
(x = column, y = row; ε = 1e-8), L = Σ over unordered 8-neighbour pairs (p_a − p_b)²; bounds inputs `size_bounds`,
`length_bounds` (N, C, 1, 2), `centroid_bounds`, `spread_bounds` (N, C, 2, 2); masks `present` (N, C) for the C and D
terms and `ratio_active` (N, R) for attr `ratios` [[num, den, lo, hi], ...] (class ids; enforced as
ψ(lo·L_den − L_num) + ψ(L_num − hi·L_den)); loss = weight/(H·W) · Σ of every ψ_t(lower − v) + ψ_t(v − upper).
Written independently of the C++ (no shared code): plain tensor expressions, autograd for the gradients.
Key decision: bounds are drawn around the descriptors of the case's own prediction, some satisfied and some violated,
so both regions of the barrier (and the masks) are exercised at every t.
"""
import math


def ops(torch):
    eps = 1e-8

    def psi(z, t):
        thr = -1.0 / t ** 2
        inside = z <= thr
        safe = torch.where(inside, z, -torch.ones_like(z))
        return torch.where(inside, -torch.log(-safe) / t, t * z - math.log(1.0 / t ** 2) / t + 1.0 / t)

    def descriptors(p):
        h, w = p.shape[-2:]
        y = torch.arange(h, dtype=p.dtype).view(h, 1)
        x = torch.arange(w, dtype=p.dtype).view(1, w)
        s = p.sum(dim=(-2, -1))
        cx, cy = (p * x).sum(dim=(-2, -1)) / (s + eps), (p * y).sum(dim=(-2, -1)) / (s + eps)
        vx = (p * x * x).sum(dim=(-2, -1)) / (s + eps) - cx ** 2
        vy = (p * y * y).sum(dim=(-2, -1)) / (s + eps) - cy ** 2
        dx, dy = torch.sqrt(vx.clamp(min=0) + eps), torch.sqrt(vy.clamp(min=0) + eps)
        length = 0
        for oy, ox in ((0, 1), (1, -1), (1, 0), (1, 1)):
            a = p[..., 0:h - oy, max(0, -ox):w - max(0, ox)]
            b = p[..., oy:h, max(0, ox):w - max(0, -ox)]
            length = length + ((a - b) ** 2).sum(dim=(-2, -1))
        return s, torch.stack([cx, cy], -1), torch.stack([dx, dy], -1), length

    def descriptor_loss(i, a):
        t, weight = float(a["t"]), float(a.get("weight", 1e-2))
        cls = list(a["classes"])
        logits = i["input"]
        h, w = logits.shape[-2:]
        p = torch.softmax(logits, 1)[:, cls]
        s, c, d, length = descriptors(p)
        present = i["present"].unsqueeze(-1)

        def term(v, b, mask=None):
            pen = psi(b[..., 0] - v, t) + psi(v - b[..., 1], t)
            return (pen if mask is None else pen * mask).sum()

        total = term(s.unsqueeze(-1), i["size_bounds"]) + term(length.unsqueeze(-1), i["length_bounds"])
        total = total + term(c, i["centroid_bounds"], present) + term(d, i["spread_bounds"], present)
        for r, (num, den, lo, hi) in enumerate(a.get("ratios", [])):
            ln, ld = length[:, cls.index(num)], length[:, cls.index(den)]
            total = total + ((psi(lo * ld - ln, t) + psi(ln - hi * ld, t)) * i["ratio_active"][:, r]).sum()
        return total * weight / (h * w)

    return {"descriptor_loss": descriptor_loss}


def cases(torch):
    g = torch.Generator().manual_seed(5005)
    ref = ops(torch)["descriptor_loss"]

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    def around(v, rel, absolute):
        """[lower, upper] around v: width rel·|v| + absolute, centre shifted so about half the bounds are violated."""
        half = rel * v.abs() + absolute
        shift = (torch.rand(v.shape, generator=g, dtype=torch.float64) * 2 - 1) * 1.6 * half
        lo = (v + shift - half).clamp(min=0)
        return torch.stack([lo, torch.maximum(lo, v + shift + half)], -1)

    def case(name, n, k, h, w, classes, ratios, t):
        logits = randn(n, k, h, w, scale=1.5)
        p = torch.softmax(logits, 1)[:, classes]
        # the descriptors of this prediction, recomputed with the reference's own formulas
        s = p.sum(dim=(-2, -1))
        yy = torch.arange(h, dtype=torch.float64).view(h, 1)
        xx = torch.arange(w, dtype=torch.float64).view(1, w)
        cx, cy = (p * xx).sum(dim=(-2, -1)) / s, (p * yy).sum(dim=(-2, -1)) / s
        c = torch.stack([cx, cy], -1)
        dsp = torch.stack([torch.sqrt((p * (xx - cx[..., None, None]) ** 2).sum(dim=(-2, -1)) / s),
                           torch.sqrt((p * (yy - cy[..., None, None]) ** 2).sum(dim=(-2, -1)) / s)], -1)
        length = 0
        for oy, ox in ((0, 1), (1, -1), (1, 0), (1, 1)):
            a = p[..., 0:h - oy, max(0, -ox):w - max(0, ox)]
            b = p[..., oy:h, max(0, ox):w - max(0, -ox)]
            length = length + ((a - b) ** 2).sum(dim=(-2, -1))
        inputs = dict(
            input=logits,
            size_bounds=around(s.unsqueeze(-1), 0.1, 0.5),
            centroid_bounds=around(c, 0.0, 1.0),
            spread_bounds=around(dsp, 0.0, 0.5),
            length_bounds=around(length.unsqueeze(-1), 0.1, 0.5),
            present=(torch.rand(n, len(classes), generator=g) < 0.75).to(torch.float64),
            ratio_active=(torch.rand(n, len(ratios), generator=g) < 0.75).to(torch.float64),
        )
        attrs = {"classes": classes, "ratios": ratios, "t": t, "weight": 1e-2}
        return {"name": name, "op": "descriptor_loss", "attrs": attrs, "inputs": inputs, "grads": ["input"],
                "fn": ref}

    return [
        case("descriptor_loss_acdc_t1", 2, 4, 9, 11, [1, 2, 3], [[2, 3, 2.0, 3.0]], 1.0),
        case("descriptor_loss_acdc_t5", 3, 4, 7, 10, [1, 2, 3], [[2, 3, 2.0, 3.0]], 5.0),
        case("descriptor_loss_promise_t2", 2, 2, 13, 7, [1], [], 2.0),
        case("descriptor_loss_gap_classes", 1, 5, 8, 9, [1, 3, 4], [[3, 4, 1.5, 2.5]], 1.5),
    ]
