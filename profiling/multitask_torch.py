"""PyTorch twin of models/multitask_unet.h (paper 4): the same definition, with the same parameter names and order.

Five levels of 2 x (conv3x3 without bias + ReLU), widths w..16w; 2x2 max-pools, then a 4x4 one at the bottom; nearest
upsampling (x4, then x2) with [upsampled, skip] concatenation; 3x3 bias-free heads: mask 2 (log-softmax), contour 2
(log-softmax), distance 1 (sigmoid). Variants: m, 2dec-mc, 2dec-md, conv-mc, conv-md (separate decoders in 2dec).
Used by profiling/bench_train_torch.py (--model multitask) and tools/opcheck/gen_multitask_reference.py; state_dict
keys equal the engine's named_parameters() ("down1.conv1.conv.weight", "decoder.up4.conv2.conv.weight", ...).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

VARIANTS = {  # key: (aux task, two decoders)
    "m": (None, False),
    "2dec-mc": ("contour", True),
    "2dec-md": ("distance", True),
    "conv-mc": ("contour", False),
    "conv-md": ("distance", False),
}


class ConvReLU(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)

    def forward(self, x):
        return F.relu(self.conv(x), inplace=True)


class DoubleConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = ConvReLU(cin, cout)
        self.conv2 = ConvReLU(cout, cout)

    def forward(self, x):
        return self.conv2(self.conv1(x))


class Decoder(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.n = len(widths) - 1
        for i in reversed(range(self.n)):  # registered deepest first, as the engine does
            setattr(self, "up%d" % (i + 1), DoubleConv(widths[i + 1] + widths[i], widths[i]))

    def forward(self, feats, ups):
        h = feats[-1]
        for i in reversed(range(self.n)):
            h = F.interpolate(h, scale_factor=ups[i], mode="nearest")
            h = getattr(self, "up%d" % (i + 1))(torch.cat([h, feats[i]], 1))
        return h


class MultitaskUNet(nn.Module):
    def __init__(self, variant="conv-md", in_channels=3, base_width=32, bottom_pool=4):
        super().__init__()
        self.aux, two = VARIANTS[variant]
        w = base_width
        widths = [w, 2 * w, 4 * w, 8 * w, 16 * w]
        self.pools = [2, 2, 2, bottom_pool]
        c = in_channels
        for i, wi in enumerate(widths):
            setattr(self, "down%d" % (i + 1), DoubleConv(c, wi))
            c = wi
        self.two = two
        if two:
            self.decoder_mask = Decoder(widths)
            setattr(self, "decoder_" + self.aux, Decoder(widths))
        else:
            self.decoder = Decoder(widths)
        self.mask_head = nn.Conv2d(w, 2, 3, padding=1, bias=False)
        if self.aux == "contour":
            self.contour_head = nn.Conv2d(w, 2, 3, padding=1, bias=False)
        if self.aux == "distance":
            self.distance_head = nn.Conv2d(w, 1, 3, padding=1, bias=False)
        for m in self.modules():  # He-normal on fan-out, as the engine's Init::HeNormalFanOut
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        feats, h = [], x
        for i in range(5):
            if i > 0:
                h = F.max_pool2d(h, self.pools[i - 1])
            h = getattr(self, "down%d" % (i + 1))(h)
            feats.append(h)
        d = (self.decoder_mask if self.two else self.decoder)(feats, self.pools)
        out = {"mask": F.log_softmax(self.mask_head(d), 1)}
        d2 = getattr(self, "decoder_" + self.aux)(feats, self.pools) if self.two else d
        if self.aux == "contour":
            out["contour"] = F.log_softmax(self.contour_head(d2), 1)
        if self.aux == "distance":
            out["distance"] = torch.sigmoid(self.distance_head(d2))
        return out


def multitask_loss(out, mask_t, contour_t=None, distance_t=None):
    """Mean NLL of the mask + mean NLL of the contour or mean squared error of the distance, weights 1."""
    loss = F.nll_loss(out["mask"], mask_t)
    if "contour" in out:
        loss = loss + F.nll_loss(out["contour"], contour_t)
    if "distance" in out:
        loss = loss + F.mse_loss(out["distance"], distance_t)
    return loss
