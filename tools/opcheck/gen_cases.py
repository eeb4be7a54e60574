#!/usr/bin/python3
"""Writes a folder of opcheck reference cases (docs/opcheck-format.md) with PyTorch: manifest.json + .npy files.

    /usr/bin/python3 tools/opcheck/gen_cases.py OUT_DIR [--seed 0] [--filter SUBSTRING]

Every op of the spec's first table (PyTorch semantics) gets several attribute variants on small random float64 inputs
with odd sizes; tools/opcheck/cases_kernels.py and tools/opcheck/cases_project.py add more cases when present:
each defines `cases(torch)` -> list of dicts {name, op, attrs, inputs: {role: tensor}} (optional: grads: [roles],
rtol, atol, fn(inputs, attrs) -> tensor); cases_project.py also defines `ops(torch)` -> {op: fn} with the reference
definitions of the project's ops. Outputs and gradients come from torch.autograd on a random grad_output.
Key decisions: float64 (the engine runs <f8 cases in double, so tolerances can be tight), except a few float32
convolution cases (store="f4") that exercise the float32 path training takes; the values are
seeded (the same command writes the same files); the folder is rewritten from scratch (stale .npy files removed).
"""
import argparse
import importlib.util
import json
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)

DEFAULT_RTOL, DEFAULT_ATOL = 1e-6, 1e-8
# Inputs that never get a gradient (besides integer labels).
NO_GRAD = {"cross_entropy": {"weight"}, "nll_loss": {"weight"}, "batch_norm": {"running_mean", "running_var"}}

_gen = torch.Generator().manual_seed(0)


def reseed(seed):
    _gen.manual_seed(seed)


def randn(*shape, scale=1.0):
    return torch.randn(shape, generator=_gen) * scale


def rand(*shape, lo=0.0, hi=1.0):
    return lo + (hi - lo) * torch.rand(shape, generator=_gen)


def randint(hi, *shape):
    return torch.randint(0, hi, shape, generator=_gen)


# ---------------------------------------------------------------- reference ops (torch.nn.functional semantics)
def _conv(x, w, b, a, nd):
    stride, padding, dilation = a.get("stride", 1), a.get("padding", 0), a.get("dilation", 1)
    if a.get("padding_mode", "zeros") == "reflect":
        p = [padding] * nd if isinstance(padding, int) else list(padding)
        x = F.pad(x, [q for q in reversed(p) for _ in range(2)], mode="reflect")
        padding = 0
    f = F.conv2d if nd == 2 else F.conv3d
    return f(x, w, b, stride=stride, padding=padding, dilation=dilation)


def _conv_t(x, w, b, a, nd):
    f = F.conv_transpose2d if nd == 2 else F.conv_transpose3d
    return f(x, w, b, stride=a.get("stride", 1), padding=a.get("padding", 0),
             output_padding=a.get("output_padding", 0), dilation=a.get("dilation", 1))


def _interp(mode):
    def f(i, a):
        kw = {} if mode == "nearest" else {"align_corners": a["align_corners"]}
        if "size" in a:
            return F.interpolate(i["input"], size=a["size"], mode=mode, **kw)
        return F.interpolate(i["input"], scale_factor=a["scale_factor"], mode=mode, **kw)
    return f


OPS = {
    "conv2d": lambda i, a: _conv(i["input"], i["weight"], i.get("bias"), a, 2),
    "conv3d": lambda i, a: _conv(i["input"], i["weight"], i.get("bias"), a, 3),
    "conv_transpose2d": lambda i, a: _conv_t(i["input"], i["weight"], i.get("bias"), a, 2),
    "conv_transpose3d": lambda i, a: _conv_t(i["input"], i["weight"], i.get("bias"), a, 3),
    "batch_norm": lambda i, a: F.batch_norm(i["input"], i.get("running_mean"), i.get("running_var"), i.get("weight"),
                                            i.get("bias"), training=a.get("training", True), eps=a.get("eps", 1e-5)),
    "group_norm": lambda i, a: F.group_norm(i["input"], a["num_groups"], i.get("weight"), i.get("bias"),
                                            eps=a.get("eps", 1e-5)),
    "relu": lambda i, a: F.relu(i["input"]),
    "sigmoid": lambda i, a: torch.sigmoid(i["input"]),
    "tanh": lambda i, a: torch.tanh(i["input"]),
    "leaky_relu": lambda i, a: F.leaky_relu(i["input"], a.get("negative_slope", 0.01)),
    "prelu": lambda i, a: F.prelu(i["input"], i["weight"]),
    "max_pool2d": lambda i, a: F.max_pool2d(i["input"], a["kernel_size"], a.get("stride")),
    "max_pool3d": lambda i, a: F.max_pool3d(i["input"], a["kernel_size"], a.get("stride")),
    "upsample_bilinear2d": _interp("bilinear"),
    "upsample_trilinear3d": _interp("trilinear"),
    "upsample_nearest2d": _interp("nearest"),
    "upsample_nearest3d": _interp("nearest"),
    "softmax": lambda i, a: F.softmax(i["input"], a["dim"]),
    "log_softmax": lambda i, a: F.log_softmax(i["input"], a["dim"]),
    "cross_entropy": lambda i, a: F.cross_entropy(i["input"], i["target"], weight=i.get("weight"),
                                                  ignore_index=a.get("ignore_index", -100),
                                                  reduction=a.get("reduction", "mean")),
    "nll_loss": lambda i, a: F.nll_loss(i["input"], i["target"], weight=i.get("weight"),
                                        ignore_index=a.get("ignore_index", -100), reduction=a.get("reduction", "mean")),
    "mse_loss": lambda i, a: F.mse_loss(i["input"], i["target"], reduction=a.get("reduction", "mean")),
    "cat": lambda i, a: torch.cat([i["input%d" % k] for k in range(len(i))], a.get("dim", 0)),
    # Beyond the spec's table (same conventions): the other engine ops the issue lists.
    "add": lambda i, a: i["input"] + i["other"],
    "sub": lambda i, a: i["input"] - i["other"],
    "mul": lambda i, a: i["input"] * i["other"],
    "div": lambda i, a: i["input"] / i["other"],
    "sum": lambda i, a: i["input"].sum(dim=a["dim"], keepdim=a.get("keepdim", False)) if "dim" in a else i["input"].sum(),
    "mean": lambda i, a: i["input"].mean(dim=a["dim"], keepdim=a.get("keepdim", False)) if "dim" in a else i["input"].mean(),
    "max_unpool2d": lambda i, a: F.max_unpool2d(i["input"], i["indices"], a["kernel_size"], a["stride"], output_size=a["output_size"]),
    "max_unpool3d": lambda i, a: F.max_unpool3d(i["input"], i["indices"], a["kernel_size"], a["stride"], output_size=a["output_size"]),
}


# ---------------------------------------------------------------- the cases of the first table
def C(name, op, attrs, **inputs):
    return {"name": name, "op": op, "attrs": attrs, "inputs": inputs}


def conv_inputs(xs, ws, bias, channels, scale):
    """Random input and weight (scaled), and a bias of `channels` values when asked (drawn in that order)."""
    inp = dict(input=randn(*xs), weight=randn(*ws, scale=scale))
    if bias:
        inp["bias"] = randn(channels)
    return inp


def conv_cases():
    out = []
    # name, input shape, weight shape, attrs, bias
    v2 = [
        ("plain", (2, 3, 7, 6), (4, 3, 3, 3), dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1]), True),
        ("pad1", (2, 3, 7, 5), (4, 3, 3, 3), dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1]), True),
        ("stride2", (1, 2, 9, 8), (3, 2, 3, 3), dict(stride=[2, 2], padding=[1, 1], dilation=[1, 1]), True),
        ("dil2", (1, 2, 9, 7), (3, 2, 3, 3), dict(stride=[1, 1], padding=[2, 2], dilation=[2, 2]), True),
        ("nobias_1x1", (2, 5, 5, 3), (3, 5, 1, 1), dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1]), False),
        ("rect", (1, 3, 7, 9), (2, 3, 3, 2), dict(stride=[2, 1], padding=[1, 0], dilation=[1, 2]), True),
        ("k5", (1, 2, 11, 9), (2, 2, 5, 5), dict(stride=[1, 1], padding=[2, 2], dilation=[1, 1]), True),
        ("reflect1", (2, 3, 7, 6), (4, 3, 3, 3), dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1]), True),
        ("reflect2_s2", (1, 2, 9, 8), (3, 2, 5, 5), dict(stride=[2, 2], padding=[2, 2], dilation=[1, 1]), True),
        ("reflect_dil", (1, 2, 9, 7), (2, 2, 3, 3), dict(stride=[1, 1], padding=[2, 1], dilation=[2, 1]), False),
    ]
    for tag, xs, ws, attrs, bias in v2:
        attrs = dict(attrs, padding_mode="reflect" if tag.startswith("reflect") else "zeros")
        inp = conv_inputs(xs, ws, bias, ws[0], 0.5)
        out.append(C("conv2d_" + tag, "conv2d", attrs, **inp))
    v3 = [
        ("plain", (1, 2, 5, 6, 7), (3, 2, 3, 3, 3), dict(stride=[1, 1, 1], padding=[1, 1, 1], dilation=[1, 1, 1]), True),
        ("stride2", (2, 2, 7, 5, 6), (2, 2, 3, 3, 3), dict(stride=[2, 2, 2], padding=[1, 1, 1], dilation=[1, 1, 1]), True),
        ("aniso", (1, 2, 5, 7, 6), (3, 2, 1, 3, 3), dict(stride=[1, 2, 1], padding=[0, 1, 1], dilation=[1, 1, 2]), False),
        ("dil2", (1, 1, 7, 7, 7), (2, 1, 3, 3, 3), dict(stride=[1, 1, 1], padding=[2, 2, 2], dilation=[2, 2, 2]), True),
        ("reflect1", (1, 2, 5, 6, 7), (3, 2, 3, 3, 3), dict(stride=[1, 1, 1], padding=[1, 1, 1], dilation=[1, 1, 1]), True),
        ("reflect_s2", (1, 2, 7, 6, 5), (2, 2, 3, 3, 3), dict(stride=[2, 2, 2], padding=[1, 2, 1], dilation=[1, 1, 1]), True),
    ]
    for tag, xs, ws, attrs, bias in v3:
        attrs = dict(attrs, padding_mode="reflect" if tag.startswith("reflect") else "zeros")
        inp = conv_inputs(xs, ws, bias, ws[0], 0.5)
        out.append(C("conv3d_" + tag, "conv3d", attrs, **inp))
    t2 = [
        ("plain", (2, 3, 5, 4), (3, 2, 3, 3), dict(stride=[1, 1], padding=[0, 0], output_padding=[0, 0], dilation=[1, 1]), True),
        ("up2", (1, 4, 5, 3), (4, 2, 2, 2), dict(stride=[2, 2], padding=[0, 0], output_padding=[0, 0], dilation=[1, 1]), True),
        ("s2p1op1", (1, 3, 4, 5), (3, 2, 3, 3), dict(stride=[2, 2], padding=[1, 1], output_padding=[1, 1], dilation=[1, 1]), True),
        ("rect", (2, 2, 3, 5), (2, 3, 3, 2), dict(stride=[3, 1], padding=[1, 0], output_padding=[2, 0], dilation=[1, 1]), False),
        ("dil2", (1, 2, 4, 4), (2, 2, 3, 3), dict(stride=[1, 1], padding=[1, 1], output_padding=[0, 0], dilation=[2, 2]), True),
    ]
    for tag, xs, ws, attrs, bias in t2:
        inp = conv_inputs(xs, ws, bias, ws[1], 0.5)
        out.append(C("conv_transpose2d_" + tag, "conv_transpose2d", attrs, **inp))
    t3 = [
        ("up2", (1, 3, 3, 4, 5), (3, 2, 2, 2, 2), dict(stride=[2, 2, 2], padding=[0, 0, 0], output_padding=[0, 0, 0], dilation=[1, 1, 1]), True),
        ("s2p1op1", (1, 2, 3, 3, 4), (2, 2, 3, 3, 3), dict(stride=[2, 2, 2], padding=[1, 1, 1], output_padding=[1, 0, 1], dilation=[1, 1, 1]), True),
        ("plain", (2, 2, 3, 4, 3), (2, 3, 3, 3, 3), dict(stride=[1, 1, 1], padding=[1, 1, 1], output_padding=[0, 0, 0], dilation=[1, 1, 1]), False),
    ]
    for tag, xs, ws, attrs, bias in t3:
        inp = conv_inputs(xs, ws, bias, ws[1], 0.5)
        out.append(C("conv_transpose3d_" + tag, "conv_transpose3d", attrs, **inp))
    return out


def conv_f32_cases():
    """Zero-padded convolutions stored as float32 (<f4): the engine runs them in float32, which is the path training
    takes (oneDNN where the build has it). The reference is computed in float64 from the float32-rounded inputs."""
    out = []
    v2 = [
        ("unet3x3", (2, 16, 17, 15), (24, 16, 3, 3), dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1]), True),
        ("first_layer", (3, 1, 19, 18), (8, 1, 3, 3), dict(stride=[1, 1], padding=[1, 1], dilation=[1, 1]), True),
        ("stride2_odd", (2, 8, 15, 13), (8, 8, 3, 3), dict(stride=[2, 2], padding=[0, 0], dilation=[1, 1]), False),
        ("rect_dil", (1, 6, 14, 17), (5, 6, 3, 2), dict(stride=[2, 1], padding=[1, 0], dilation=[1, 2]), True),
    ]
    for tag, xs, ws, attrs, bias in v2:
        inp = conv_inputs(xs, ws, bias, ws[0], 0.2)
        out.append(dict(C("conv2d_f32_" + tag, "conv2d", dict(attrs, padding_mode="zeros"), **inp), store="f4"))
    out.append(dict(C("conv3d_f32_plain", "conv3d", dict(stride=[1, 1, 1], padding=[1, 1, 1], dilation=[1, 1, 1],
                                                          padding_mode="zeros"),
                      input=randn(2, 4, 7, 9, 8), weight=randn(6, 4, 3, 3, 3, scale=0.2), bias=randn(6)), store="f4"))
    t2 = [
        ("unet_up", (2, 16, 7, 9), (16, 8, 3, 3), dict(stride=[2, 2], padding=[1, 1], output_padding=[1, 1], dilation=[1, 1]), True),
        ("op_past_pad", (1, 6, 5, 6), (6, 4, 3, 3), dict(stride=[3, 2], padding=[0, 0], output_padding=[2, 1], dilation=[1, 1]), False),
    ]
    for tag, xs, ws, attrs, bias in t2:
        inp = conv_inputs(xs, ws, bias, ws[1], 0.2)
        out.append(dict(C("conv_transpose2d_f32_" + tag, "conv_transpose2d", attrs, **inp), store="f4"))
    out.append(dict(C("conv_transpose3d_f32_up", "conv_transpose3d",
                      dict(stride=[2, 2, 2], padding=[1, 1, 1], output_padding=[1, 1, 1], dilation=[1, 1, 1]),
                      input=randn(1, 6, 3, 4, 5), weight=randn(6, 4, 3, 3, 3, scale=0.2), bias=randn(4)), store="f4"))
    for c in out:
        c["rtol"], c["atol"] = 1e-4, 1e-4  # float32 sums of up to ~150 products
    return out


def norm_act_cases():
    out = []
    for tag, shape, eps in [("2d", (3, 4, 5, 3), 1e-5), ("3d", (2, 3, 3, 4, 5), 1e-3), ("1d", (5, 3), 1e-5)]:
        c = shape[1]
        out.append(C("batch_norm_" + tag, "batch_norm", {"eps": eps},
                     input=randn(*shape, scale=2.0) + 0.5, weight=rand(c, lo=0.5, hi=1.5), bias=randn(c)))
    for tag, shape, g in [("g1", (2, 4, 5, 3), 1), ("g2", (2, 4, 3, 5), 2), ("inst", (2, 3, 4, 5), 3),
                          ("3d", (2, 6, 3, 4, 3), 3)]:
        c = shape[1]
        out.append(C("group_norm_" + tag, "group_norm", {"num_groups": g, "eps": 1e-5},
                     input=randn(*shape, scale=2.0) - 0.3, weight=rand(c, lo=0.5, hi=1.5), bias=randn(c)))
    for op in ("relu", "sigmoid", "tanh"):
        out.append(C(op + "_4d", op, {}, input=randn(2, 3, 5, 7, scale=2.0)))
        out.append(C(op + "_5d", op, {}, input=randn(1, 2, 3, 5, 4, scale=2.0)))
    for slope in (0.01, 0.2):
        out.append(C("leaky_relu_%g" % slope, "leaky_relu", {"negative_slope": slope}, input=randn(2, 3, 5, 7)))
    out.append(C("prelu_shared", "prelu", {}, input=randn(2, 3, 5, 4), weight=torch.tensor([0.25])))
    out.append(C("prelu_channel", "prelu", {}, input=randn(2, 3, 5, 4), weight=rand(3, lo=0.05, hi=0.5)))
    out.append(C("prelu_3d", "prelu", {}, input=randn(1, 2, 3, 4, 5), weight=rand(2, lo=0.05, hi=0.5)))
    # Beyond the table: evaluation mode (running statistics as inputs) and affine off.
    out.append(C("batch_norm_eval", "batch_norm", {"eps": 1e-5, "training": False}, input=randn(2, 3, 4, 5),
                 weight=rand(3, lo=0.5, hi=1.5), bias=randn(3), running_mean=randn(3), running_var=rand(3, lo=0.5, hi=2)))
    out.append(C("batch_norm_noaffine", "batch_norm", {"eps": 1e-5}, input=randn(4, 2, 3, 3)))
    out.append(C("group_norm_noaffine", "group_norm", {"num_groups": 2, "eps": 1e-5}, input=randn(2, 4, 3, 5)))
    return out


def pool_upsample_cases():
    out = []
    for tag, shape, k, s in [("k2", (2, 3, 8, 6), [2, 2], [2, 2]), ("k2_odd", (1, 2, 7, 9), [2, 2], [2, 2]),
                             ("k3s2", (1, 2, 9, 8), [3, 3], [2, 2]), ("k3s1", (1, 2, 5, 6), [3, 3], [1, 1]),
                             ("rect", (1, 2, 7, 8), [3, 2], [2, 1])]:
        out.append(C("max_pool2d_" + tag, "max_pool2d", {"kernel_size": k, "stride": s}, input=randn(*shape)))
    for tag, shape, k, s in [("k2", (1, 2, 4, 6, 4), [2, 2, 2], [2, 2, 2]), ("k2_odd", (2, 2, 5, 7, 3), [2, 2, 2], [2, 2, 2]),
                             ("k3s2", (1, 1, 7, 5, 6), [3, 3, 3], [2, 2, 2]), ("aniso", (1, 2, 3, 6, 6), [1, 2, 2], [1, 2, 2])]:
        out.append(C("max_pool3d_" + tag, "max_pool3d", {"kernel_size": k, "stride": s}, input=randn(*shape)))
    for ac in (False, True):
        for s in (2, 3):
            out.append(C("upsample_bilinear2d_s%d_ac%d" % (s, ac), "upsample_bilinear2d",
                         {"scale_factor": [s, s], "align_corners": ac}, input=randn(2, 2, 3, 5)))
        out.append(C("upsample_trilinear3d_s2_ac%d" % ac, "upsample_trilinear3d",
                     {"scale_factor": [2, 2, 2], "align_corners": ac}, input=randn(1, 2, 3, 4, 3)))
        out.append(C("upsample_trilinear3d_aniso_ac%d" % ac, "upsample_trilinear3d",
                     {"scale_factor": [1, 2, 3], "align_corners": ac}, input=randn(1, 1, 3, 3, 2)))
    for s in (2, 3):
        out.append(C("upsample_nearest2d_s%d" % s, "upsample_nearest2d", {"scale_factor": [s, s]}, input=randn(1, 3, 3, 5)))
    # Beyond the table's integer scales: non-integer scale factors (coordinates use 1/s) and explicit output sizes.
    for ac in (False, True):
        out.append(C("upsample_bilinear2d_s1.7_ac%d" % ac, "upsample_bilinear2d",
                     {"scale_factor": [1.7, 2.5], "align_corners": ac}, input=randn(1, 2, 5, 3)))
        out.append(C("upsample_bilinear2d_size_ac%d" % ac, "upsample_bilinear2d",
                     {"size": [7, 4], "align_corners": ac}, input=randn(1, 2, 3, 5)))
        out.append(C("upsample_trilinear3d_s1.5_ac%d" % ac, "upsample_trilinear3d",
                     {"scale_factor": [1.5, 1.5, 2.0], "align_corners": ac}, input=randn(1, 2, 3, 4, 3)))
    out.append(C("upsample_nearest2d_s1.5", "upsample_nearest2d", {"scale_factor": [1.5, 2.5]}, input=randn(1, 2, 5, 3)))
    out.append(C("upsample_nearest2d_size", "upsample_nearest2d", {"size": [7, 4]}, input=randn(1, 2, 3, 5)))
    out.append(C("upsample_nearest3d_s2", "upsample_nearest3d", {"scale_factor": [2, 2, 2]}, input=randn(1, 2, 3, 2, 3)))
    return out


def softmax_loss_cases():
    out = []
    for op in ("softmax", "log_softmax"):
        out.append(C(op + "_dim1", op, {"dim": 1}, input=randn(2, 5, 3, 4, scale=3.0)))
        out.append(C(op + "_dimlast", op, {"dim": -1}, input=randn(3, 7, scale=3.0)))
        out.append(C(op + "_dim0_5d", op, {"dim": 0}, input=randn(3, 2, 2, 3, 2, scale=3.0)))
    # cross entropy: (N,C,H,W) logits, (N,H,W) labels
    t = randint(4, 2, 5, 3)
    out.append(C("cross_entropy_4d", "cross_entropy", {"ignore_index": -100, "reduction": "mean"},
                 input=randn(2, 4, 5, 3, scale=2.0), target=t))
    t = randint(4, 2, 5, 3)
    t[0, 0, :] = 255
    t[1, 2, 1] = 255
    out.append(C("cross_entropy_weight_ignore", "cross_entropy", {"ignore_index": 255, "reduction": "mean"},
                 input=randn(2, 4, 5, 3, scale=2.0), target=t, weight=rand(4, lo=0.2, hi=2.0)))
    out.append(C("cross_entropy_2d", "cross_entropy", {"ignore_index": -100, "reduction": "mean"},
                 input=randn(7, 3, scale=2.0), target=randint(3, 7)))
    out.append(C("cross_entropy_5d_sum", "cross_entropy", {"ignore_index": -100, "reduction": "sum"},
                 input=randn(1, 3, 3, 4, 2, scale=2.0), target=randint(3, 1, 3, 4, 2)))
    t = randint(3, 2, 4, 3)
    t[1, 1, 1] = 1
    t[0, 2, :] = 2
    out.append(C("cross_entropy_none_ignore", "cross_entropy", {"ignore_index": 2, "reduction": "none"},
                 input=randn(2, 3, 4, 3, scale=2.0), target=t, weight=rand(3, lo=0.2, hi=2.0)))
    for red in ("mean", "sum", "none"):
        t = randint(5, 2, 3, 4)
        t[0, 1, 2] = -100
        out.append(C("nll_loss_" + red, "nll_loss", {"ignore_index": -100, "reduction": red},
                     input=F.log_softmax(randn(2, 5, 3, 4), 1), target=t))
    t = randint(4, 3, 5)
    t[2, 3] = 1
    out.append(C("nll_loss_weight_ignore", "nll_loss", {"ignore_index": 1, "reduction": "mean"},
                 input=F.log_softmax(randn(3, 4, 5), 1), target=t, weight=rand(4, lo=0.2, hi=2.0)))
    for red in ("mean", "sum", "none"):
        out.append(C("mse_loss_" + red, "mse_loss", {"reduction": red}, input=randn(2, 3, 4, 5), target=randn(2, 3, 4, 5)))
    out.append(C("cat_dim1", "cat", {"dim": 1}, input0=randn(2, 3, 4, 5), input1=randn(2, 2, 4, 5)))
    out.append(C("cat_dim0_3", "cat", {"dim": 0}, input0=randn(1, 3, 2), input1=randn(2, 3, 2), input2=randn(3, 3, 2)))
    out.append(C("cat_5d_dim1", "cat", {"dim": 1}, input0=randn(1, 2, 3, 2, 3), input1=randn(1, 3, 3, 2, 3)))
    out.append(C("cat_dimlast", "cat", {"dim": -1}, input0=randn(2, 3, 1), input1=randn(2, 3, 4)))
    return out


def extra_cases():
    """Ops outside the spec's table that the engine also exposes: binary ops with broadcasting, sum/mean, unpooling."""
    out = []
    for op in ("add", "sub", "mul", "div"):
        other = (lambda *sh: rand(*sh, lo=0.5, hi=2.0)) if op == "div" else randn
        out.append(C(op + "_same", op, {}, input=randn(2, 3, 4), other=other(2, 3, 4)))
        out.append(C(op + "_bcast", op, {}, input=randn(2, 3, 4, 5), other=other(1, 3, 1, 1)))
        out.append(C(op + "_bcast2", op, {}, input=randn(3, 1), other=other(4)))
        out.append(C(op + "_scalar", op, {}, input=randn(2, 3), other=other()))
    for op in ("sum", "mean"):
        out.append(C(op + "_dim1", op, {"dim": [1]}, input=randn(2, 3, 4, 5)))
        out.append(C(op + "_dims_keep", op, {"dim": [0, 2], "keepdim": True}, input=randn(2, 3, 4, 5)))
        out.append(C(op + "_spatial", op, {"dim": [2, 3, 4]}, input=randn(1, 2, 3, 4, 5)))
        out.append(C(op + "_all", op, {}, input=randn(3, 5, 2)))
    for nd, shape, k in [(2, (2, 2, 7, 6), [2, 2]), (3, (1, 2, 5, 4, 6), [2, 2, 2])]:
        x = randn(*shape)
        pooled, idx = (F.max_pool2d if nd == 2 else F.max_pool3d)(x, k, k, return_indices=True)
        out.append(C("max_unpool%dd" % nd, "max_unpool%dd" % nd,
                     {"kernel_size": k, "stride": k, "output_size": list(shape[2:])}, input=pooled, indices=idx))
    return out


def builtin_cases(seed):
    out = []
    # Each family draws from its own seeded stream: adding a case changes the values of its own family only.
    for k, family in enumerate((conv_cases, norm_act_cases, pool_upsample_cases, softmax_loss_cases, extra_cases,
                                conv_f32_cases)):
        reseed(seed * 1000 + k)
        out += family()
    return out


# ---------------------------------------------------------------- writing
def load_module(name):
    path = os.path.join(HERE, name + ".py")
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("opcheck_" + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def as_tensor(v):
    t = v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
    if t.is_floating_point():
        return t.detach().to(torch.float64).contiguous()
    return t.detach().to(torch.int64).contiguous()


def save(path, t, store="f8"):
    arr = np.asarray(t.detach().cpu().numpy(), order="C")  # (np.ascontiguousarray would turn 0-d into 1-d)
    arr = arr.astype("<" + store) if arr.dtype.kind == "f" else arr.astype("<i8")
    np.save(path, arr, allow_pickle=False)


def write_case(out_dir, case, ops):
    name, op = case["name"], case["op"]
    attrs = case.get("attrs", {})
    fn = case.get("fn") or ops.get(op)
    if fn is None:
        print("gen_cases: WARNING: no reference for op '%s'; case '%s' skipped (give the case an 'fn')" % (op, name))
        return None
    store = case.get("store", "f8")  # "f4": float32 files; the reference is computed from the rounded inputs
    inputs = {k: as_tensor(v) for k, v in case["inputs"].items()}
    if store == "f4":
        inputs = {k: t.to(torch.float32).to(torch.float64) if t.is_floating_point() else t for k, t in inputs.items()}
    if "grads" in case:
        diff = list(case["grads"])
    else:
        diff = [k for k, t in inputs.items() if t.is_floating_point() and k not in NO_GRAD.get(op, set())]
    for k in diff:
        inputs[k].requires_grad_(True)
    out = fn(inputs, attrs)
    entry = {"name": name, "op": op, "attrs": attrs, "inputs": {}, "outputs": {"output": name + ".output.npy"},
             "rtol": case.get("rtol", DEFAULT_RTOL), "atol": case.get("atol", DEFAULT_ATOL)}
    for k in ("rtol_f32", "atol_f32"):
        if k in case:
            entry[k] = case[k]
    for k, t in inputs.items():
        entry["inputs"][k] = "%s.%s.npy" % (name, k)
        save(os.path.join(out_dir, entry["inputs"][k]), t, store)
    save(os.path.join(out_dir, name + ".output.npy"), out, store)
    if diff:
        g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        go = torch.randn(out.shape, generator=g, dtype=torch.float64)
        grads = torch.autograd.grad(out, [inputs[k] for k in diff], go, allow_unused=True)
        entry["grad_output"] = name + ".grad_output.npy"
        go = go.to(torch.float32).to(torch.float64) if store == "f4" else go
        save(os.path.join(out_dir, entry["grad_output"]), go, store)
        entry["grads"] = {}
        for k, gk in zip(diff, grads):
            gk = torch.zeros_like(inputs[k]) if gk is None else gk
            entry["grads"][k] = "%s.grad.%s.npy" % (name, k)
            save(os.path.join(out_dir, entry["grads"][k]), gk, store)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--filter", default="", help="only cases whose name or op contains this")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    ops = dict(OPS)
    cases = builtin_cases(args.seed)
    for mod_name in ("cases_kernels", "cases_project"):
        mod = load_module(mod_name)
        if mod is None:
            print("gen_cases: %s.py not present, skipped" % mod_name)
            continue
        if hasattr(mod, "ops"):
            ops.update(mod.ops(torch))
        extra = mod.cases(torch)
        print("gen_cases: %d cases from %s.py" % (len(extra), mod_name))
        taken = {c["name"] for c in cases}
        for c in extra:  # a name already used by another source gets the module's tag
            if c["name"] in taken:
                c["name"] += "_" + mod_name.split("_")[-1]
                print("gen_cases: renamed a duplicate case to '%s'" % c["name"])
        cases += extra
    names = [c["name"] for c in cases]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SystemExit("gen_cases: duplicate case names: %s" % ", ".join(dup))
    cases = [c for c in cases if args.filter in c["name"] or args.filter in c["op"]]

    os.makedirs(args.out_dir, exist_ok=True)
    for f in os.listdir(args.out_dir):  # rewrite from scratch: no stale arrays
        if f.endswith(".npy") or f == "manifest.json":
            os.remove(os.path.join(args.out_dir, f))
    entries = [e for e in (write_case(args.out_dir, c, ops) for c in cases) if e is not None]
    tmp = os.path.join(args.out_dir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"format": 1, "generator": "tools/opcheck/gen_cases.py (PyTorch %s)" % torch.__version__,
                   "cases": entries}, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(args.out_dir, "manifest.json"))
    size = sum(os.path.getsize(os.path.join(args.out_dir, f)) for f in os.listdir(args.out_dir))
    print("gen_cases: %d cases, %d ops, %.2f MB in %s" % (len(entries), len({e["op"] for e in entries}), size / 1e6,
                                                          args.out_dir))


if __name__ == "__main__":
    sys.exit(main())
