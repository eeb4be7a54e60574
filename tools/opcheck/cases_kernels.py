"""Extra opcheck reference cases for the pooling, resize, normalisation and PReLU kernels (imported by gen_cases.py).

    cases(torch) -> [dict(name, op, attrs, inputs={role: tensor}, ...)]

They complement gen_cases.py's built-in cases with the corners where an engine most easily departs from PyTorch 1.13:
downscaling and non-integer scale factors (F.interpolate samples with 1/scale_factor, not in/out), a scale whose floor
keeps the size (PyTorch copies), explicit sizes, output size 1 with align_corners, overlapping and anisotropic pooling
windows, unpooling to an odd output size (ENet), normalisation of inputs whose mean dwarfs their spread, instance-norm
group counts, and PReLU with negative slopes. Values come from a generator seeded here, so the cases are stable.
"""


def cases(torch):
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(20240611)

    def randn(*shape, scale=1.0, shift=0.0):
        return torch.randn(shape, generator=g, dtype=torch.float64) * scale + shift

    def rand(*shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(shape, generator=g, dtype=torch.float64)

    def C(name, op, attrs, **inputs):
        return {"name": "k_" + name, "op": op, "attrs": attrs, "inputs": inputs}

    out = []
    # ---- max pooling: overlapping, gapped and anisotropic windows, odd sizes (randn values: no ties)
    for tag, shape, k, s in [("k3s1", (1, 3, 5, 7), [3, 3], [1, 1]), ("k2s3", (2, 2, 8, 7), [2, 2], [3, 3]),
                             ("k1x3", (1, 2, 5, 7), [1, 3], [1, 2])]:
        out.append(C("max_pool2d_" + tag, "max_pool2d", {"kernel_size": k, "stride": s}, input=randn(*shape)))
    for tag, shape, k, s in [("k3s1", (1, 2, 4, 5, 4), [3, 3, 3], [1, 1, 1]),
                             ("k2s1x2", (2, 2, 3, 5, 6), [2, 2, 2], [1, 2, 2]),
                             ("k3x1x2", (1, 3, 5, 4, 5), [3, 1, 2], [2, 1, 2])]:
        out.append(C("max_pool3d_" + tag, "max_pool3d", {"kernel_size": k, "stride": s}, input=randn(*shape)))
    # ---- unpooling back to an odd size (ENet's decoder): the pooled map of a 7x5 (5x7x3) input
    for nd, shape, k in [(2, (1, 3, 7, 5), [2, 2]), (3, (1, 2, 5, 7, 3), [2, 2, 2])]:
        x = randn(*shape)
        pooled, idx = (F.max_pool2d if nd == 2 else F.max_pool3d)(x, k, k, return_indices=True)
        out.append(C("max_unpool%dd_odd" % nd, "max_unpool%dd" % nd,
                     {"kernel_size": k, "stride": k, "output_size": list(shape[2:])}, input=pooled, indices=idx))
    # ---- resize
    for ac in (False, True):
        out.append(C("bilinear_down0.5_ac%d" % ac, "upsample_bilinear2d",
                     {"scale_factor": [0.5, 0.5], "align_corners": ac}, input=randn(2, 2, 7, 9)))
        out.append(C("bilinear_s0.7x4_ac%d" % ac, "upsample_bilinear2d",
                     {"scale_factor": [0.7, 4.0], "align_corners": ac}, input=randn(1, 2, 6, 3)))
        out.append(C("bilinear_size1_ac%d" % ac, "upsample_bilinear2d",
                     {"size": [1, 5], "align_corners": ac}, input=randn(1, 2, 4, 3)))
        out.append(C("trilinear_size_ac%d" % ac, "upsample_trilinear3d",
                     {"size": [5, 2, 7], "align_corners": ac}, input=randn(1, 2, 3, 4, 3)))
        out.append(C("trilinear_down_ac%d" % ac, "upsample_trilinear3d",
                     {"scale_factor": [0.6, 0.5, 1.4], "align_corners": ac}, input=randn(1, 1, 5, 6, 4)))
    # floor(3·1.3) = 3: PyTorch copies rather than sampling at 1/1.3.
    out.append(C("bilinear_s1.3_same_size", "upsample_bilinear2d",
                 {"scale_factor": [1.3, 1.3], "align_corners": False}, input=randn(1, 2, 3, 3)))
    out.append(C("nearest2d_s1.7", "upsample_nearest2d", {"scale_factor": [1.7, 1.7]}, input=randn(1, 2, 3, 7)))
    out.append(C("nearest2d_down", "upsample_nearest2d", {"scale_factor": [0.5, 0.7]}, input=randn(2, 1, 7, 6)))
    out.append(C("nearest2d_size_odd", "upsample_nearest2d", {"size": [11, 5]}, input=randn(1, 2, 7, 3)))
    out.append(C("nearest3d_s1.5", "upsample_nearest3d", {"scale_factor": [1.5, 2.0, 1.2]}, input=randn(1, 2, 3, 4, 5)))
    out.append(C("nearest3d_size", "upsample_nearest3d", {"size": [5, 3, 7]}, input=randn(1, 1, 3, 4, 5)))
    # ---- normalisation
    out.append(C("batch_norm_offset", "batch_norm", {"eps": 1e-5},
                 input=randn(3, 2, 4, 5, scale=0.01, shift=100.0), weight=rand(2, lo=0.5, hi=1.5), bias=randn(2)))
    out.append(C("batch_norm_nc", "batch_norm", {"eps": 1e-3}, input=randn(2, 4), weight=rand(4, lo=0.5, hi=1.5),
                 bias=randn(4)))
    out.append(C("batch_norm_3d_noaffine", "batch_norm", {"eps": 1e-5}, input=randn(1, 3, 3, 5, 4, scale=3.0)))
    out.append(C("batch_norm_eval_3d", "batch_norm", {"eps": 1e-3, "training": False}, input=randn(2, 2, 3, 4, 3),
                 weight=rand(2, lo=0.5, hi=1.5), bias=randn(2), running_mean=randn(2),
                 running_var=rand(2, lo=0.5, hi=2.0)))
    out.append(C("group_norm_instance", "group_norm", {"num_groups": 4, "eps": 1e-5}, input=randn(2, 4, 5, 3),
                 weight=rand(4, lo=0.5, hi=1.5), bias=randn(4)))
    out.append(C("group_norm_offset_3d", "group_norm", {"num_groups": 2, "eps": 1e-5},
                 input=randn(1, 4, 3, 4, 5, scale=0.05, shift=-50.0), weight=rand(4, lo=0.5, hi=1.5), bias=randn(4)))
    out.append(C("group_norm_nc", "group_norm", {"num_groups": 3, "eps": 1e-5}, input=randn(3, 6),
                 weight=rand(6, lo=0.5, hi=1.5), bias=randn(6)))
    # ---- PReLU: negative and >1 slopes, (N, C) input, shared slope on a 5-D input
    out.append(C("prelu_nc", "prelu", {}, input=randn(4, 3), weight=torch.tensor([-0.3, 0.2, 1.5], dtype=torch.float64)))
    out.append(C("prelu_shared_5d", "prelu", {}, input=randn(2, 3, 2, 3, 4), weight=torch.tensor([-0.1], dtype=torch.float64)))
    return out
