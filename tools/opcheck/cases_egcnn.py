"""opcheck cases for paper 3's composed losses (losses/egcnn_losses.h), each with its reference written from the
definitions in shared/opcheck-format.md (second table): egcnn_edge_loss and egcnn_dual_task. Imported by gen_cases.py:
cases(torch) -> [{name, op, attrs, inputs, grads, fn}].
Key decision: the reference follows the paper's equations with plain torch ops (a grouped conv3d Sobel, softmax of
(logits + noise)/τ, sqrt of the summed squares), not the engine's fused kernels, so it checks the composition.
"""


def cases(torch):
    F = torch.nn.functional
    g = torch.Generator().manual_seed(3333)

    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    def dice(p, t, eps):
        dims = [0] + list(range(2, p.dim()))
        inter = (p * t).sum(dims)
        return 1 - ((2 * inter + eps) / (p.sum(dims) + t.sum(dims) + eps)).mean()

    def bbce(x, t):
        beta = (t == 0).sum().to(x.dtype) / t.numel()
        ls = F.logsigmoid(x)
        l1s = F.logsigmoid(-x)
        return -(beta * (t * ls).sum() + (1 - beta) * ((1 - t) * l1s).sum()) / t.numel()

    def edge_loss(i, a):
        x, t = i["input"], i["target"]
        eps = a.get("eps", 1e-5)
        return a.get("w_dice", 1.0) * dice(torch.sigmoid(x), t, eps) + a.get("w_bce", 1.0) * bbce(x, t)

    d = torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64)
    s = torch.tensor([1.0, 2.0, 1.0], dtype=torch.float64)
    kz = torch.einsum("a,b,c->abc", d, s, s)
    ky = torch.einsum("a,b,c->abc", s, d, s)
    kx = torch.einsum("a,b,c->abc", s, s, d)

    def grad_mag(q, eps):
        c = q.shape[1]
        w = torch.stack([kz, ky, kx]).repeat(c, 1, 1, 1).unsqueeze(1).to(q.dtype) / 16.0
        gr = F.conv3d(q, w, padding=1, groups=c)  # (N, 3C, ...): [gz, gy, gx] per channel
        n = q.shape[0]
        gr = gr.view(n, c, 3, *q.shape[2:])
        return torch.sqrt((gr ** 2).sum(2) + eps)

    def dual_task(i, a):
        x, t, noise = i["input"], i["target"], i["noise"]
        eps, tau = a.get("eps", 1e-6), a.get("tau", 0.5)
        sample = F.softmax((x + noise) / tau, dim=1)
        return (grad_mag(sample, eps) - grad_mag(t, eps)).abs().mean()

    def onehot(n, k, *spatial):
        lab = torch.randint(0, k, (n,) + spatial, generator=g)
        return F.one_hot(lab, k).movedim(-1, 1).to(torch.float64)

    def gumbel(*shape):
        u = torch.rand(*shape, generator=g, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
        return -torch.log(-torch.log(u))

    out = []
    for tag, shape, frac, attrs in [("1ch", (1, 1, 3, 5, 4), 0.3, {"w_dice": 1.0, "w_bce": 1.0, "eps": 1e-5}),
                                    ("2ch", (2, 2, 3, 4, 5), 0.2, {"w_dice": 0.5, "w_bce": 2.0, "eps": 1.0})]:
        t = (torch.rand(*shape, generator=g) < frac).to(torch.float64)
        out.append({"name": "egcnn_edge_loss_" + tag, "op": "egcnn_edge_loss", "attrs": attrs, "grads": ["input"],
                    "inputs": {"input": randn(*shape, scale=2.0), "target": t}, "fn": edge_loss})
    for tag, shape, tau in [("k3", (1, 3, 3, 5, 4), 0.5), ("k2", (2, 2, 4, 3, 5), 1.0)]:
        out.append({"name": "egcnn_dual_task_" + tag, "op": "egcnn_dual_task", "attrs": {"tau": tau, "eps": 1e-6},
                    "grads": ["input"], "fn": dual_task,
                    "inputs": {"input": randn(*shape, scale=2.0), "target": onehot(shape[0], shape[1], *shape[2:]),
                               "noise": gumbel(*shape)}})
    return out
