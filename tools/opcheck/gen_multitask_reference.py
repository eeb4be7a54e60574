#!/usr/bin/python3
"""Writes the PyTorch reference of paper 4's multi-task U-Net (all five variants) for tests/models:

    /usr/bin/python3 tools/opcheck/gen_multitask_reference.py [OUT_DIR]   (default tests/models/multitask_reference)

The model is profiling/multitask_torch.py at base width 2 in float64 on a (2, 3, 32, 32) input. Its weights are not
stored: parameter k (in the engine's named_parameters() order, which the manifest lists with shapes so the test can
check names, shapes and order first) holds, at flat index j, (2/sqrt(fan_in))·sin(1.7·j + 0.9·k + 0.3) with
fan_in = shape[1]·kh·kw (He-like scale, so 18 bias-free ReLU convs keep their signal). Stored: the input and the
targets (shared), and per variant the heads' outputs, the composed loss (mean NLL + mean NLL | mean MSE) and its
gradients with respect to the input, the first conv's weight and the mask head's weight.
Key decision: float64 throughout, so the engine's CPU float64 run must agree to ~1e-10 (the test allows 1e-8).
"""
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "profiling"))
import multitask_torch as mt  # noqa: E402

N, H, W, WIDTH = 2, 32, 32, 2


def fill_params(model):
    params = []
    for k, (name, p) in enumerate(model.named_parameters()):
        fan_in = p.shape[1] * p.shape[2] * p.shape[3]
        j = torch.arange(p.numel(), dtype=torch.float64)
        with torch.no_grad():
            p.copy_(((2.0 / math.sqrt(fan_in)) * torch.sin(1.7 * j + 0.9 * k + 0.3)).view_as(p))
        params.append([name, list(p.shape)])
    return params


def inputs():
    j = torch.arange(N * 3 * H * W, dtype=torch.float64)
    x = (torch.sin(0.37 * j) + 0.5 * torch.cos(0.11 * j)).view(N, 3, H, W)
    yy, xx = torch.meshgrid(torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij")
    mask, contour, dist = [], [], []
    for n in range(N):
        r = torch.sqrt((xx - 15.5 - 3 * n) ** 2 + (yy - 14.5) ** 2)
        mask.append((r < 9).long())
        contour.append(((r - 9).abs() < 2).long())
        dist.append(torch.clamp((r - 9).abs() / 16, max=1.0))
    return x, torch.stack(mask), torch.stack(contour), torch.stack(dist).unsqueeze(1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "models", "multitask_reference")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".npy") or f == "manifest.json":
            os.remove(os.path.join(out, f))
    torch.set_default_dtype(torch.float64)
    x, tm, tc, td = inputs()
    save = lambda name, t: np.save(os.path.join(out, name), t.detach().numpy())  # noqa: E731
    save("input.npy", x)
    save("mask_target.npy", tm)
    save("contour_target.npy", tc)
    save("distance_target.npy", td)
    manifest = {"format": 1, "base_width": WIDTH, "input": [N, 3, H, W], "cases": []}
    for v in mt.VARIANTS:
        torch.manual_seed(0)
        model = mt.MultitaskUNet(v, base_width=WIDTH).double()
        params = fill_params(model)
        xi = x.clone().requires_grad_(True)
        o = model(xi)
        loss = mt.multitask_loss(o, tm, tc, td)
        loss.backward()
        case = {"variant": v, "params": params, "files": {}}
        for key in ("mask", "contour", "distance"):
            if key in o:
                save(v + "." + key + ".npy", o[key])
                case["files"][key] = v + "." + key + ".npy"
        grads = {"loss": loss, "grad_input": xi.grad, "grad_first_conv": model.down1.conv1.conv.weight.grad,
                 "grad_mask_head": model.mask_head.weight.grad}
        for key, t in grads.items():
            save(v + "." + key + ".npy", t)
            case["files"][key] = v + "." + key + ".npy"
        manifest["cases"].append(case)
        print(v, "loss", float(loss))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
