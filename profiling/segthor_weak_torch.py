#!/usr/bin/python3
"""PyTorch twin of apps/segthor_weak.cpp: the same protocol on the same data for the same wall-clock budget.

What is reproduced (the C++ is the authority; each point was checked against it):
  data     DIR/train/Patient_XX/{Patient_XX,GT}.nii.gz (or DIR/Patient_XX/...), patients in sorted order; heart =
           label 2; whole volume min–max to [0, 1] (range clamped at 1e-6, float32); every axial slice resized to S×S,
           bilinear image (align_corners=False) and 'nearest' labels (mask = resized > 0.5) — our upsample kernels
           reproduce PyTorch 1.13's F.interpolate exactly, 'nearest' included (src = min(floor(dst·in/out), in−1)).
           Slice grid spacing: (sx·nx/S, sy·ny/S, sz).
  split    by patient, and by default *the same split as the C++ app*: data/datasets' split_by_patient_counts (sorted
           patient ids, Fisher–Yates driven by splitmix64(seed + t·golden)), first --train-patients train, the next
           --val-patients (0: the rest) validate, each side in sorted id order — re-implemented here bit for bit.
           --split-from RESULTS_JSON (our app's results.json: config.train_cases where recorded, else validation = the
           keys of dice_volume.per_patient) or --train-patients-list (ordered: the index of a training patient seeds
           its weak labels) override it.
  weak     on every training slice with heart: one heart pixel drawn uniformly with the splitmix64 stream of
           data/phantoms/phantom_random.h (seed·1000003 + training-patient index, slice z) — bit for bit the C++ seeds —
           and the pixels within diameter/2 = 2 px of it (13-px disc) that are heart. Size bounds [a, b] = smallest and
           largest heart area of the training slices at S×S (or --bounds); slices without heart get [0, 0].
  loss     weak: partial CE = −Σ seeds·log p_heart / max(1, Σ seeds) over the batch (heart class only) + λ·size penalty,
           size penalty = mean over N·K (K = 1: the heart channel only) of (relu(a−V)² + relu(V−b)²)/(H·W),
           V = Σ_hw softmax_heart; λ = lambda·(256/S)². full: cross entropy over all pixels, 2 classes.
  batches  every slice of every training patient; order reshuffled each epoch (the Philox stream of
           apps/toolkit/slice_data.cpp) and per-sample dihedral augmentation (k quarter turns, mirror x, flip y) drawn as
           data/transforms/augment.cpp's draw_augment does (splitmix64 stream (seed + 7919·epoch) ^ 0xA0C3E7, sample
           position), with the same index transform: the batches are the C++ app's batches, in the same order.
  model    profiling/bench_train_torch.py's ResidualUNet. Our init differs from PyTorch's default (kaiming_uniform(a=√5)
           weights, uniform biases): ours is He-normal N(0, sqrt(2/(k·k·out))) for every conv and transposed conv (out =
           output channels), bias 0, BatchNorm weight 1 / bias 0. init_like_ours() applies it — with the very numbers of
           the C++ model (same Philox stream Generator(seed), same draw order), so both start from identical weights.
  optim    Adam(β 0.9, 0.99, eps 1e-8), lr 2.5e-4, batch 4, steps/epoch = floor(slices/batch).
           --lr-schedule budget: lr·max(0.05, 1 − t/T) set before every step (t = seconds since training started,
           T = budget); constant (= the C++ 'plateau'): fixed lr, halved after 20 epochs without a strict improvement of
           validation volume Dice (our ReduceOnPlateau: no threshold, no cooldown). auto (default, as the C++ app):
           budget when --max-minutes > 0. The plateau rule is not applied under the budget schedule (as in C++).
  budget   --max-minutes: after each epoch (training + validation + checkpoints), stop when elapsed + that epoch's
           duration would pass the budget (apps/toolkit/trainer.cpp's rule). The clock starts right before the first epoch.
  eval     after every epoch, model.eval() (BatchNorm running statistics), batches of 8 slices, prediction = heart where
           logit_heart > logit_background (our argmax, ties to background); per validation patient on the S×S×slices
           grid: 3-D Dice, Dice over the slices with heart, symmetric Hausdorff (exact: EDT of each mask evaluated on the
           other mask's voxels), HD95 (MedPy: surfaces = voxels with a face neighbour outside the mask or the image,
           95th percentile, linear, of the pooled surface distances). Empty vs non-empty → Dice 0, HD inf (null in
           JSON, left out of means, as ours). Best epoch = highest validation volume Dice (first one on ties).
  output   --out DIR: results.json (config, data, split, curve, best-epoch summaries with per-patient values, keys as
           ours), curve.json, best.pt / last.pt (the C++ app writes its checkpoints — best, and last with the Adam
           state, ~315 MB per epoch for the 19.6 M-parameter model — inside the timed loop too; --no-checkpoints skips them).

Checked on a small NIfTI folder: with --lr 0 every per-step loss (ce, size) equals build-dev/apps/segthor_weak's to
~1e-6 relative, and the validation Dice / HD / HD95 are identical (weak: CoordConv none/1st/all, seeds 0 and 5; full:
the first step at CoordConv all, seed 5), so the
split, weak seeds, bounds, batches, augmentation, initial weights, losses and metrics are the same. Remaining
difference: float summation order inside the kernels, so with lr > 0 the runs drift apart after the first steps (Adam's
first updates are ±lr for every weight, which amplifies rounding) — as two PyTorch builds would.

Comparison, same data, same budget, same threads (our engine's thread count: OMP_NUM_THREADS):

  OMP_NUM_THREADS=2 build-dev/apps/segthor_weak --data DIR --device cpu --supervision weak --max-minutes 9 \
      --out runs/cmp/ours_weak
  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 /usr/bin/python3 profiling/segthor_weak_torch.py --data DIR \
      --supervision weak --threads 2 --max-minutes 9 --out runs/cmp/torch_weak
  (--supervision full and .../ours_full, .../torch_full for the fully supervised pair; same --seed on both sides)

Always run it with glibc told to keep freed memory, as profiling/bench_train.cpp (bench_util.h) runs PyTorch (otherwise
glibc hands the large activation buffers back to the kernel and maps them again every step, which slows PyTorch on the
CPU), e.g.

  MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 /usr/bin/python3 profiling/segthor_weak_torch.py \\
      --data /path/to/segthor --supervision weak --threads 2 --max-minutes 9 --out runs/segthor_weak_torch/weak

Use Debian's /usr/bin/python3 (torch 1.13, numpy, scipy, nibabel).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train_torch import ResidualUNet  # noqa: E402

M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1

# ----------------------------------------------------------------------------------------------------------------------
# The engine's random numbers, bit for bit (engine/rng.h, data/phantoms/phantom_random.h)


def philox4x32_10(key, counters):
    """Philox-4x32-10 of engine/rng.h for a uint64 key and an array of uint64 counters → four uint32 words (as uint64)."""
    c = np.asarray(counters, dtype=np.uint64)
    m32 = np.uint64(M32)
    s32 = np.uint64(32)
    c0, c1 = c & m32, c >> s32
    c2 = np.zeros_like(c)
    c3 = np.zeros_like(c)
    k0, k1 = key & M32, (key >> 32) & M32
    ma, mb = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    for _ in range(10):
        p0 = ma * c0
        p1 = mb * c2
        n0 = (p1 >> s32) ^ c1 ^ np.uint64(k0)
        n1 = p1 & m32
        n2 = (p0 >> s32) ^ c3 ^ np.uint64(k1)
        n3 = p0 & m32
        c0, c1, c2, c3 = n0, n1, n2, n3
        k0 = (k0 + 0x9E3779B9) & M32
        k1 = (k1 + 0xBB67AE85) & M32
    return c0, c1, c2, c3


def u32_to_unit(x):
    return (np.asarray(x, dtype=np.float64) + 0.5) * (1.0 / 4294967296.0)


class PhiloxGenerator:
    """seg::Generator: hands out counter ranges; uniform() takes word 0 of one counter."""

    def __init__(self, seed):
        self.seed = seed & M64
        self.offset = 0

    def reserve(self, n):
        o = self.offset
        self.offset += n // 2 + 1
        return o

    def uniforms(self, n):
        """n successive uniform() calls."""
        o = self.offset
        self.offset += n  # reserve(1) advances by 1
        return u32_to_unit(philox4x32_10(self.seed, np.arange(o, o + n, dtype=np.uint64))[0])

    def normals(self, n):
        """fill_normal's N(0, 1) values for a tensor of n elements."""
        off = self.reserve(n)
        i = np.arange(n, dtype=np.uint64)
        w = philox4x32_10(self.seed, np.uint64(off) + i // np.uint64(2))
        u1, u2 = u32_to_unit(w[0]), u32_to_unit(w[1])
        rad = np.sqrt(-2.0 * np.log(u1))
        ang = 6.283185307179586 * u2
        return np.where(i % np.uint64(2) == 0, rad * np.cos(ang), rad * np.sin(ang))


def seeded_permutation(n, gen):
    """The C++ Fisher–Yates: for i = n..2, swap(order[i−1], order[randint(i)])."""
    order = list(range(n))
    if n < 2:
        return order
    u = gen.uniforms(n - 1)
    for k, i in enumerate(range(n, 1, -1)):
        j = int(u[k] * float(i)) % i
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class PhantomRandom:
    def __init__(self, seed, stream):
        self.state = splitmix64((seed ^ splitmix64((stream + 0x51ED270B27) & M64)) & M64)

    def uniform(self):
        v = splitmix64(self.state)
        self.state = (self.state + 1) & M64
        return (float(v >> 11) + 0.5) * (1.0 / 9007199254740992.0)


# ----------------------------------------------------------------------------------------------------------------------
# Data (apps/paper1/data.cpp + apps/toolkit/slice_data.cpp)


class SliceSet:
    def __init__(self, pid, image, mask, spacing):
        self.id = pid
        self.image = image          # (slices, S, S) float32
        self.mask = mask            # (slices, S, S) uint8
        self.seeds = None           # (slices, S, S) uint8 (training patients)
        self.spacing = spacing      # (x, y, z) mm of the slice grid
        self.slices = image.shape[0]
        self.size = image.shape[1]
        self.organ = mask.reshape(self.slices, -1).any(1)  # has_organ(z)
        self.bounds = np.zeros((self.slices, 2), np.float64)


def list_segthor(data_dir):
    root = os.path.join(data_dir, "train") if os.path.isdir(os.path.join(data_dir, "train")) else data_dir
    cases = []
    for name in sorted(os.listdir(root)):
        p = os.path.join(root, name)
        if not os.path.isdir(p) or not name.startswith("Patient_"):
            continue

        def nii(stem):
            for e in (".nii.gz", ".nii"):
                if os.path.isfile(os.path.join(p, stem + e)):
                    return os.path.join(p, stem + e)
            return None

        img, gt = nii(name), nii("GT")
        if img is None or gt is None:
            sys.exit("%s: incomplete patient %s (need %s.nii.gz and GT.nii.gz)" % (p, name, name))
        cases.append((name, img, gt))
    if not cases:
        sys.exit("%s: no Patient_XX folder (expected DIR/train/Patient_XX/{Patient_XX,GT}.nii.gz)" % root)
    return cases


def read_nifti(path):
    import nibabel as nib
    im = nib.load(path)
    a = np.asarray(im.get_fdata(), dtype=np.float32)  # nibabel applies scl_slope/inter, as our reader does
    while a.ndim > 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim != 3:
        sys.exit("%s: expected a 3-D volume, got shape %s" % (path, a.shape))
    zooms = [abs(float(z)) for z in im.header.get_zooms()[:3]]
    zooms = [z if z > 0 and math.isfinite(z) else 1.0 for z in zooms]
    return a, zooms


def make_slice_set(pid, img_path, gt_path, organ_label, S):
    ct, sp = read_nifti(img_path)
    gt, _ = read_nifti(gt_path)
    if ct.shape != gt.shape:
        sys.exit("patient %s: image dims %s differ from label dims %s" % (pid, ct.shape, gt.shape))
    nx, ny, nz = ct.shape
    mn, mx = ct.min(), ct.max()
    rng = np.float32(max(np.float32(mx - mn), np.float32(1e-6)))
    img = (np.transpose(ct, (2, 1, 0)) - mn) / rng                       # (z, y, x), x fastest as our Volume
    lab = (np.rint(np.transpose(gt, (2, 1, 0))) == organ_label).astype(np.float32)
    with torch.no_grad():
        ri = F.interpolate(torch.from_numpy(np.ascontiguousarray(img, np.float32))[:, None], size=(S, S),
                           mode="bilinear", align_corners=False)[:, 0]
        rl = F.interpolate(torch.from_numpy(np.ascontiguousarray(lab))[:, None], size=(S, S), mode="nearest")[:, 0]
    spacing = (sp[0] * nx / S, sp[1] * ny / S, sp[2])
    return SliceSet(pid, ri.numpy().copy(), (rl.numpy() > 0.5).astype(np.uint8), spacing)


def add_weak_seeds(s, seed, diameter=4.0):
    """data/transforms/weak_labels.cpp on the S×S slice grid."""
    S = s.size
    r = diameter / 2.0
    R = int(math.ceil(r))
    seeds = np.zeros_like(s.mask)
    for z in range(s.slices):
        m = s.mask[z]
        fg = np.flatnonzero(m.reshape(-1))  # raster order y·S + x, as the C++ scan
        if fg.size == 0:
            continue
        u = PhantomRandom(seed, z).uniform()
        pick = min(int(u * float(fg.size)), fg.size - 1)
        c = int(fg[pick])
        cy, cx = c // S, c % S
        for y in range(max(0, cy - R), min(S - 1, cy + R) + 1):
            for x in range(max(0, cx - R), min(S - 1, cx + R) + 1):
                if float((y - cy) ** 2 + (x - cx) ** 2) <= r * r and m[y, x]:
                    seeds[z, y, x] = 1
    s.seeds = seeds


def organ_area_bounds(sets):
    areas = np.concatenate([s.mask.reshape(s.slices, -1).sum(1) for s in sets])
    areas = areas[areas > 0]
    if areas.size == 0:
        sys.exit("size bounds: no training slice contains the organ")
    return [float(areas.min()), float(areas.max())]


def set_size_bounds(s, b):
    s.bounds = np.where(s.organ[:, None], np.asarray(b, np.float64)[None, :], 0.0)


def cpp_split_order(ids, seed):
    """data/datasets/loader.cpp shuffled_patients: sorted unique ids, Fisher–Yates with j = splitmix64(s) % i, where the
    loader's splitmix64 advances s by the golden ratio first (so call t hashes seed + t·golden with the stateless one)."""
    p = sorted(set(ids))
    for t, i in enumerate(range(len(p), 1, -1)):
        j = splitmix64((seed + t * 0x9E3779B97F4A7C15) & M64) % i
        p[i - 1], p[j] = p[j], p[i - 1]
    return p


def load_data(a):
    cases = list_segthor(a.data)
    ids = [c[0] for c in cases]
    t0 = time.perf_counter()
    print("loading %d patients from %s ..." % (len(cases), a.data), flush=True)
    sets = {c[0]: make_slice_set(c[0], c[1], c[2], a.heart_label, a.size) for c in cases}
    print("  loaded in %.1f s" % (time.perf_counter() - t0), flush=True)
    order = cpp_split_order(ids, a.seed)  # the C++ app's patient order
    split_source = "reproduced C++ split (data/datasets, seed %d)" % a.seed
    if a.train_patients_list:
        train_ids = [t.strip() for t in a.train_patients_list.split(",") if t.strip()]
        split_source = "--train-patients-list"
    elif a.split_from:
        with open(a.split_from) as f:
            rj = json.load(f)
        d = rj.get("data", {})
        if "train_cases" in rj.get("config", {}):
            train_ids = list(rj["config"]["train_cases"])
        elif "train_ids" in d:
            train_ids = list(d["train_ids"])
        else:
            val_ids = set(rj["dice_volume"]["per_patient"].keys())
            train_ids = [p for p in order if p not in val_ids]  # the C++ order (the seeds' index) if the split agrees
        split_source = "--split-from " + a.split_from
        cfg = rj.get("config", {})
        if str(cfg.get("seed", a.seed)) != str(a.seed):
            print("  note: %s was run with --seed %s, this run uses --seed %d (weak seeds, batches and init differ)"
                  % (a.split_from, cfg.get("seed"), a.seed))
    else:
        if len(ids) <= a.train_patients or a.train_patients <= 0:
            sys.exit("%s: %d patients found, need more than --train-patients %d" % (a.data, len(ids), a.train_patients))
        train_ids = sorted(order[:a.train_patients])
    for t in train_ids:
        if t not in sets:
            sys.exit("training patient %s not found in %s" % (t, a.data))
    if train_ids != sorted(order[:len(train_ids)]):
        print("  note: the split differs from the C++ app's (seed %d) — weak seeds are drawn per training index, so "
              "they and the batches match the C++ run only if its split was this one" % a.seed)
    rest = [p for p in order if p not in train_ids]
    val_ids = sorted(rest[:a.val_patients] if a.val_patients > 0 else rest)
    if not val_ids:
        sys.exit("no validation patient left")
    train = [sets[p] for p in train_ids]
    val = [sets[p] for p in val_ids]
    bounds = a.bounds if a.bounds else organ_area_bounds(train)
    for i, s in enumerate(train):
        add_weak_seeds(s, (a.seed * 1000003 + i) & M64)
        set_size_bounds(s, bounds)
    for s in val:
        set_size_bounds(s, bounds)
    return train, val, bounds, split_source


# ----------------------------------------------------------------------------------------------------------------------
# Sampling (apps/toolkit/slice_data.cpp)


def transform_index(S, k, mirror, flip):
    """Source (sy, sx) of every output (y, x): flip y, mirror x, then k quarter turns (SliceSampler's rule)."""
    y, x = np.meshgrid(np.arange(S), np.arange(S), indexing="ij")
    if flip:
        y = S - 1 - y
    if mirror:
        x = S - 1 - x
    if k == 0:
        return y, x
    if k == 1:
        return x, S - 1 - y
    if k == 2:
        return S - 1 - y, S - 1 - x
    return S - 1 - x, y


class SliceSampler:
    def __init__(self, sets, batch, seed):
        self.sets, self.batch, self.seed = sets, batch, seed
        self.index = [(i, z) for i, s in enumerate(sets) for z in range(s.slices)]
        self.S = sets[0].size
        self.tables = {(k, m, f): transform_index(self.S, k, m, f) for k in range(4) for m in (0, 1) for f in (0, 1)}

    def steps_per_epoch(self):
        return len(self.index) // self.batch

    def start_epoch(self, epoch):
        self.epoch = epoch
        self.order = seeded_permutation(len(self.index),
                                        PhiloxGenerator(self.seed ^ ((0x9E3779B97F4A7C15 * (epoch + 1)) & M64)))
        self.pos = 0

    def next(self):
        if self.pos + self.batch > len(self.order):
            self.start_epoch(self.epoch + 1)
        B, S = self.batch, self.S
        aug_seed = ((self.seed + 7919 * self.epoch) & M64) ^ 0xA0C3E7
        img = np.empty((B, 1, S, S), np.float32)
        tgt = np.empty((B, S, S), np.int64)
        sd = np.empty((B, S, S), np.float32)
        bd = np.empty((B, 1, 2), np.float32)
        for b in range(B):
            # draw_augment: 12 uniforms of stream (aug_seed, position); mirror = 8th, flip = 9th, turns = 12th
            r = PhantomRandom(aug_seed, self.pos)
            u = [r.uniform() for _ in range(12)]
            si, z = self.index[self.order[self.pos]]
            self.pos += 1
            s = self.sets[si]
            k = min(3, int(u[11] * 4.0))
            mirror, flip = bool(u[7] < 0.5), bool(u[8] < 0.5)
            sy, sx = self.tables[(k, int(mirror), int(flip))]
            img[b, 0] = s.image[z][sy, sx]
            tgt[b] = s.mask[z][sy, sx]
            sd[b] = s.seeds[z][sy, sx] if s.seeds is not None else 0
            bd[b, 0] = s.bounds[z]
        return torch.from_numpy(img), torch.from_numpy(tgt), torch.from_numpy(sd), torch.from_numpy(bd)


# ----------------------------------------------------------------------------------------------------------------------
# Model init (models/layers.cpp, models/residual_unet.cpp)


def init_like_ours(model, seed):
    """Our init: He-normal N(0, sqrt(2/(k·k·out))) weights, zero biases, BN (1, 0), drawn from Generator(seed) in the
    C++ construction order (down1..4, bridge, then per level deconv → up block, head; conv1, conv2a-c, conv3 in a block),
    so the weights equal the C++ model's."""
    gen = PhiloxGenerator(seed)

    def block(b):
        return [b.c1[0], b.c2[0][0], b.c2[1][0], b.c2[2][0], b.c3[0]]

    convs = []
    for d in model.down:
        convs += block(d)
    convs += block(model.bridge)
    for dc, up in zip(model.deconv, model.up):
        convs.append(dc[0])
        convs += block(up)
    convs.append(model.head)
    assert len(convs) == sum(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())
    with torch.no_grad():
        for c in convs:
            k = c.kernel_size[0] * c.kernel_size[1]
            std = math.sqrt(2.0 / float(k * c.out_channels))
            w = (0.0 + std * gen.normals(c.weight.numel())).astype(np.float32)
            c.weight.copy_(torch.from_numpy(w.reshape(tuple(c.weight.shape))))
            c.bias.zero_()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
                m.running_mean.zero_()
                m.running_var.fill_(1.0)


# ----------------------------------------------------------------------------------------------------------------------
# Metrics (data/metrics/segmentation_metrics.cpp)


def dice_of(p, g):
    a, b = int(p.sum()), int(g.sum())
    if a + b == 0:
        return 1.0
    return 2.0 * int(np.logical_and(p, g).sum()) / (a + b)


def surface_of(m):
    from scipy import ndimage
    st = ndimage.generate_binary_structure(3, 1)
    if m.shape[0] == 1:
        st[0] = st[2] = False  # 4-neighbourhood on a single slice, as ours
    return m & ~ndimage.binary_erosion(m, structure=st, border_value=0)


def binary_scores(pred, gt, spacing_xyz):
    """pred, gt (z, y, x) bool → dice, hd, hd95 (mm)."""
    from scipy import ndimage
    A, B = pred.astype(bool), gt.astype(bool)
    na, nb = int(A.sum()), int(B.sum())
    if na == 0 and nb == 0:
        return 1.0, 0.0, 0.0
    dice = 2.0 * int(np.logical_and(A, B).sum()) / (na + nb)
    if na == 0 or nb == 0:
        return dice, math.inf, math.inf
    samp = (spacing_xyz[2], spacing_xyz[1], spacing_xyz[0])
    dA = ndimage.distance_transform_edt(~A, sampling=samp)
    dB = ndimage.distance_transform_edt(~B, sampling=samp)
    hd = max(float(dB[A].max()), float(dA[B].max()))
    sA, sB = surface_of(A), surface_of(B)
    dsA = ndimage.distance_transform_edt(~sA, sampling=samp)
    dsB = ndimage.distance_transform_edt(~sB, sampling=samp)
    pooled = np.concatenate([dsB[sA], dsA[sB]])
    return dice, hd, float(np.percentile(pooled, 95.0))


def predict_patient(model, s, batch=8):
    pred = np.empty(s.mask.shape, np.uint8)
    with torch.no_grad():
        for z0 in range(0, s.slices, batch):
            x = torch.from_numpy(s.image[z0:z0 + batch][:, None])
            lg = model(x)
            pred[z0:z0 + x.shape[0]] = (lg[:, 1] > lg[:, 0]).numpy()  # argmax, ties → class 0
    return pred


def evaluate(model, val):
    sc = {"dice_volume": {}, "dice_heart_slices": {}, "hd_mm": {}, "hd95_mm": {}}
    for s in val:
        pred = predict_patient(model, s)
        d, hd, hd95 = binary_scores(pred, s.mask, s.spacing)
        sc["dice_volume"][s.id] = d
        sc["hd_mm"][s.id] = hd
        sc["hd95_mm"][s.id] = hd95
        sc["dice_heart_slices"][s.id] = dice_of(pred[s.organ], s.mask[s.organ])
    return sc


def summarise(per):
    v = [x for x in per.values() if math.isfinite(x)]
    n = len(v)
    if n == 0:
        mean = std = math.nan
    else:
        mean = sum(v) / n
        std = math.sqrt(max(0.0, (sum(x * x for x in v) - n * mean * mean) / (n - 1))) if n > 1 else 0.0
    return mean, std


def jnum(x):
    return x if isinstance(x, (int, float)) and math.isfinite(x) else None


def to_json(per):
    mean, std = summarise(per)
    return {"mean": jnum(mean), "std": jnum(std), "per_patient": {k: jnum(v) for k, v in sorted(per.items())},
            "patients_with_value": sum(1 for v in per.values() if math.isfinite(v))}


# ----------------------------------------------------------------------------------------------------------------------
# Training (apps/toolkit/trainer.cpp)


def weak_loss(lam):
    def f(logits, tgt, seeds, bounds):
        logp = F.log_softmax(logits, 1)
        heart_lp = logp[:, 1:2]
        heart_p = heart_lp.exp()
        m = seeds[:, None]
        ce = -(heart_lp * m).sum() / m.sum().clamp(min=1.0)
        V = heart_p.sum((2, 3))                                  # (N, 1)
        a, b = bounds[:, :, 0], bounds[:, :, 1]
        c = F.relu(a - V) ** 2 + F.relu(V - b) ** 2
        size = c.mean() / float(logits.shape[2] * logits.shape[3])
        return ce + lam * size, [("ce", ce.item()), ("size", size.item())]
    return f


def full_loss(logits, tgt, seeds, bounds):
    ce = F.cross_entropy(logits, tgt)
    return ce, [("ce", ce.item())]


def fmt_duration(s):
    t = int(s + 0.5)
    if t >= 3600:
        return "%dh%02dm" % (t // 3600, (t % 3600) // 60)
    if t >= 60:
        return "%dm%02ds" % (t // 60, t % 60)
    return "%ds" % t


def parse_args():
    ap = argparse.ArgumentParser(description="PyTorch twin of apps/segthor_weak (same protocol, same budget).",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--data", required=True, help="SegTHOR folder (DIR/train/Patient_XX/{Patient_XX,GT}.nii.gz)")
    ap.add_argument("--supervision", default="weak", choices=["weak", "full"])
    ap.add_argument("--coordconv", default="none", choices=["none", "1st", "enc", "all"])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--size", type=int, default=64, help="training size S (a multiple of 16)")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2.5e-4)
    ap.add_argument("--lr-schedule", default="auto", choices=["auto", "budget", "constant", "plateau"],
                    help="budget: lr·max(0.05, 1−t/T); constant (= plateau): fixed lr, halved after 20 epochs without "
                         "improvement; auto: budget when --max-minutes > 0 (the C++ app's default)")
    ap.add_argument("--patience", type=int, default=20)
    ap.add_argument("--lambda", dest="lam", type=float, default=0.01, help="size-constraint weight at 256×256")
    ap.add_argument("--bounds", default="", help="size bounds a,b in pixels at S×S (default: training ground truth)")
    ap.add_argument("--train-patients", type=int, default=6)
    ap.add_argument("--val-patients", type=int, default=4, help="validation patients (0: all the others), as the C++ app")
    ap.add_argument("--split-from", default="", help="our app's results.json: validate on its validation patients")
    ap.add_argument("--train-patients-list", default="", help="explicit training patients, e.g. Patient_03,Patient_07")
    ap.add_argument("--heart-label", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=9.0, help="time budget (0: none)")
    ap.add_argument("--init", default="ours", choices=["ours", "torch"],
                    help="ours: the C++ model's very weights; torch: PyTorch's default init")
    ap.add_argument("--no-checkpoints", action="store_true",
                    help="skip best.pt/last.pt (the C++ app writes both, ~315 MB at 19.6 M parameters, inside its budget)")
    ap.add_argument("--out", default="", help="output folder (default runs/segthor_weak_torch/<timestamp>)")
    a = ap.parse_args()
    if a.size < 16 or a.size % 16:
        ap.error("--size must be a positive multiple of 16")
    if a.bounds:
        b = [float(v) for v in a.bounds.split(",")]
        if len(b) != 2 or not 0 <= b[0] <= b[1]:
            ap.error("--bounds: expected a,b with 0 <= a <= b")
        a.bounds = b
    else:
        a.bounds = None
    if a.lr_schedule == "auto":
        a.lr_schedule = "budget" if a.max_minutes > 0 else "constant"
    if a.lr_schedule == "plateau":
        a.lr_schedule = "constant"
    if a.lr_schedule == "budget" and a.max_minutes <= 0:
        ap.error("--lr-schedule budget needs --max-minutes > 0")
    if not a.out:
        a.out = time.strftime("runs/segthor_weak_torch/%Y%m%d-%H%M%S")
    return a


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    weak = a.supervision == "weak"
    S = a.size

    train, val, bounds, split_source = load_data(a)
    train_slices = sum(s.slices for s in train)
    print("data: %s — %d training patients (%d slices), %d validation patients; size bounds [%.0f, %.0f] px at %dx%d"
          % (a.data, len(train), train_slices, len(val), bounds[0], bounds[1], S, S))
    print("split (%s): train %s; validation %s" % (split_source, ",".join(s.id for s in train),
                                                   ",".join(s.id for s in val)))

    model = ResidualUNet(1, 2, a.coordconv)
    if a.init == "ours":
        init_like_ours(model, a.seed)
    nparam = sum(p.numel() for p in model.parameters())
    print("model: residual U-Net (PyTorch %s, %d threads), CoordConv %s, %.2f M parameters, init %s"
          % (torch.__version__, torch.get_num_threads(), a.coordconv, nparam / 1e6, a.init))
    lam = a.lam * (256.0 / S) * (256.0 / S)
    if weak:
        print("size constraint: λ = %g at 256×256 → %g at %dx%d" % (a.lam, lam, S, S))
    loss_fn = weak_loss(lam) if weak else full_loss
    print("training for %d epochs, lr %g (%s schedule), budget %g min, output in %s"
          % (a.epochs, a.lr, a.lr_schedule, a.max_minutes, a.out), flush=True)

    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.99), eps=1e-8)
    sampler = SliceSampler(train, a.batch, a.seed)
    steps = sampler.steps_per_epoch()
    if steps <= 0:
        sys.exit("training: %d slices give fewer than one batch of %d" % (train_slices, a.batch))
    budget_s = a.max_minutes * 60.0
    budget_lr = a.lr_schedule == "budget"
    lr = a.lr
    best_plateau, bad = -1e300, 0
    best_metric, best_epoch, best_sc = -1e300, 0, None
    curve = []
    stopped = False
    total = steps * a.epochs
    every = max(1, steps // 20)
    done = 0
    t0 = time.perf_counter()
    epoch_start = 0.0
    ckpt_s = 0.0  # checkpoint writing inside the budget (as the C++ app's)
    for epoch in range(1, a.epochs + 1):
        model.train()
        sampler.start_epoch(epoch)
        loss_sum = 0.0
        for s in range(steps):
            img, tgt, sd, bd = sampler.next()
            if budget_lr:
                lr = a.lr * max(0.05, 1.0 - (time.perf_counter() - t0) / budget_s)
                for g in opt.param_groups:
                    g["lr"] = lr
            logits = model(img)
            loss, parts = loss_fn(logits, tgt, sd, bd)
            lv = loss.item()
            if not math.isfinite(lv):
                sys.exit("training diverged: the loss is %g at epoch %d, step %d" % (lv, epoch, s + 1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += lv
            done += 1
            if done % every == 0 or s + 1 == steps:
                el = time.perf_counter() - t0
                rate = done / el if el > 0 else 0.0
                eta = (total - done) / rate if rate > 0 else 0.0
                vals = "".join(" %s %.4f" % (k, v) for k, v in [("loss", lv)] + parts)
                print("epoch %d/%d  step %d/%d %s  %.2f it/s  elapsed %s  ETA %s"
                      % (epoch, a.epochs, done, total, vals, rate, fmt_duration(el), fmt_duration(eta)), flush=True)
        model.eval()
        sc = evaluate(model, val)
        row = {"epoch": epoch, "train_loss": loss_sum / steps, "lr": lr,
               "val_dice_volume": summarise(sc["dice_volume"])[0],
               "val_dice_heart_slices": summarise(sc["dice_heart_slices"])[0],
               "val_hd_mm": summarise(sc["hd_mm"])[0], "seconds": time.perf_counter() - t0}
        curve.append(row)
        print("epoch %d/%d  train loss %.4f  val Dice (volume) %.4f  Dice (heart slices) %.4f  HD %.2f mm  lr %.2g  %.0f s"
              % (epoch, a.epochs, row["train_loss"], row["val_dice_volume"], row["val_dice_heart_slices"],
                 row["val_hd_mm"], lr, row["seconds"]), flush=True)
        metric = row["val_dice_volume"] if math.isfinite(row["val_dice_volume"]) else 0.0
        tc = time.perf_counter()
        if metric > best_metric or best_epoch == 0:
            best_metric, best_epoch, best_sc = metric, epoch, sc
            if not a.no_checkpoints:
                torch.save(model.state_dict(), os.path.join(a.out, "best.pt"))
        if not budget_lr:  # ReduceOnPlateau (engine/optim.cpp): strict improvement, halve after `patience` bad epochs
            if metric > best_plateau:
                best_plateau, bad = metric, 0
            else:
                bad += 1
                if bad >= a.patience:
                    bad = 0
                    lr *= 0.5
                    for g in opt.param_groups:
                        g["lr"] = lr
                    print("  validation Dice did not improve for %d epochs: learning rate halved to %g" % (a.patience, lr))
        if not a.no_checkpoints:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch},
                       os.path.join(a.out, "last.pt"))
        ckpt_s += time.perf_counter() - tc
        with open(os.path.join(a.out, "curve.json"), "w") as f:
            json.dump([{k: jnum(v) for k, v in r.items()} for r in curve], f, indent=1)
        el = time.perf_counter() - t0
        epoch_s = el - epoch_start
        epoch_start = el
        if a.max_minutes > 0 and el + epoch_s > budget_s and epoch < a.epochs:
            print("time budget of %.1f min: stopping after epoch %d (another epoch would end past it)"
                  % (a.max_minutes, epoch))
            stopped = True
            break
    seconds = time.perf_counter() - t0

    res = {
        "app": "segthor_weak_torch",
        "config": {k: (v if not isinstance(v, list) else ",".join(str(x) for x in v)) for k, v in vars(a).items()},
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "data": {"source": a.data, "train_patients": len(train), "val_patients": len(val),
                 "train_slices": train_slices, "bounds": list(bounds), "split_source": split_source,
                 "train_ids": [s.id for s in train], "val_ids": [s.id for s in val]},
        "dice_volume": to_json(best_sc["dice_volume"]),
        "dice_heart_slices": to_json(best_sc["dice_heart_slices"]),
        "hd_mm": to_json(best_sc["hd_mm"]),
        "hd95_mm": to_json(best_sc["hd95_mm"]),
        "best_epoch": best_epoch,
        "epochs": len(curve),
        "stopped_by_time_budget": stopped,
        "time_s": seconds,
        "steps_per_epoch": steps,
        "checkpoint_s": ckpt_s,
        "curve": [{k: jnum(v) for k, v in r.items()} for r in curve],
    }
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    dv, ds, hd = (summarise(best_sc[k]) for k in ("dice_volume", "dice_heart_slices", "hd_mm"))
    print("best epoch %d of %d: Dice (volume) %.3f ± %.3f  Dice (heart slices) %.3f ± %.3f  HD %.2f ± %.2f mm  (%.0f s)"
          % (best_epoch, len(curve), dv[0], dv[1], ds[0], ds[1], hd[0], hd[1], seconds))
    for pid in sorted(best_sc["dice_volume"]):
        print("  %s  Dice %.3f  Dice (heart slices) %.3f  HD %.2f mm  HD95 %.2f mm"
              % (pid, best_sc["dice_volume"][pid], best_sc["dice_heart_slices"][pid], best_sc["hd_mm"][pid],
                 best_sc["hd95_mm"][pid]))
    print("checkpoints: %.1f s of the run" % ckpt_s)
    print("results in %s (results.json, curve.json%s)" % (a.out, "" if a.no_checkpoints else ", best.pt, last.pt"))


if __name__ == "__main__":
    main()
