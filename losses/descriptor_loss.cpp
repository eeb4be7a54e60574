// Shape-descriptor bounds and the log-barrier descriptor loss (see descriptor_loss.h): the bounds come from exact
// double loops over the label map; the loss is composed of engine ops after the two one-pass descriptor kernels.
#include "losses/descriptor_loss.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "engine/error.h"
#include "kernels/elementwise.h"
#include "kernels/fused_losses.h"
#include "kernels/reduce.h"
#include "kernels/shape_ops.h"
#include "losses/shape_descriptors.h"

namespace seg {

DescriptorLossConfig paper5_descriptor_config(const std::string& dataset) {
  DescriptorLossConfig c;
  if (dataset == "acdc") {
    c.classes = {1, 2, 3};
    c.same_centroid = {{2, 3}};
    c.length_ratios = {{.num = 2, .den = 3, .lo = 2, .hi = 3}};
  } else if (dataset == "promise12") {
    c.classes = {1};
  } else {
    fail("paper5_descriptor_config: unknown data set '", dataset, "' (expected acdc or promise12)");
  }
  return c;
}

SliceDescriptors label_descriptors(const int64_t* lab, int64_t H, int64_t W, int64_t K) {
  SliceDescriptors d;
  for (auto* v : {&d.size, &d.length, &d.cx, &d.cy, &d.dx, &d.dy}) v->assign(static_cast<size_t>(K), 0.0);
  std::vector<double> sx(K, 0), sy(K, 0), sxx(K, 0), syy(K, 0);
  // the four "half" offsets of the 8-neighbourhood (each unordered pair once): right, down-left, down, down-right
  const int64_t off[4][2] = {{0, 1}, {1, -1}, {1, 0}, {1, 1}};
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const int64_t k = lab[y * W + x];
      SEG_CHECK(k >= 0 && k < K, "descriptor_bounds: label ", k, " at (row ", y, ", column ", x, ") is outside [0, ", K, ")");
      const size_t ks = static_cast<size_t>(k);
      d.size[ks] += 1;
      sx[ks] += static_cast<double>(x);
      sy[ks] += static_cast<double>(y);
      sxx[ks] += static_cast<double>(x * x);
      syy[ks] += static_cast<double>(y * y);
      for (const auto& o : off) {
        const int64_t yy = y + o[0], xx = x + o[1];
        if (yy >= H || xx < 0 || xx >= W) continue;
        const int64_t j = lab[yy * W + xx];
        if (j == k) continue;
        // one-hot maps differ in exactly two classes across this pair: (1 − 0)² counted for each
        d.length[ks] += 1;
        if (j >= 0 && j < K) d.length[static_cast<size_t>(j)] += 1;
      }
    }
  for (size_t k = 0; k < static_cast<size_t>(K); ++k) {
    if (d.size[k] == 0) continue;
    d.cx[k] = sx[k] / d.size[k];
    d.cy[k] = sy[k] / d.size[k];
    d.dx[k] = std::sqrt(std::max(0.0, sxx[k] / d.size[k] - d.cx[k] * d.cx[k]));
    d.dy[k] = std::sqrt(std::max(0.0, syy[k] / d.size[k] - d.cy[k] * d.cy[k]));
  }
  return d;
}

namespace {

std::vector<int64_t> resolve_classes(const DescriptorLossConfig& cfg, int64_t K) {
  std::vector<int64_t> cls = cfg.classes;
  if (cls.empty())
    for (int64_t k = 1; k < K; ++k) cls.push_back(k);
  SEG_CHECK(!cls.empty(), "descriptor loss: no class to constrain (", K, " classes, background excluded)");
  for (int64_t k : cls) SEG_CHECK(k >= 0 && k < K, "descriptor loss: constrained class ", k, " is outside [0, ", K, ")");
  return cls;
}

int64_t position(const std::vector<int64_t>& cls, int64_t k, const char* what) {
  const auto it = std::find(cls.begin(), cls.end(), k);
  SEG_CHECK(it != cls.end(), "descriptor loss: ", what, " refers to class ", k, ", which is not constrained");
  return it - cls.begin();
}

}  // namespace

DescriptorBounds descriptor_bounds(const Tensor& labels, int64_t K, const DescriptorLossConfig& cfg) {
  SEG_CHECK(labels.defined() && labels.dtype() == DType::Int64 && labels.dim() == 3,
            "descriptor_bounds: labels must be an int64 (N, H, W) label map, got ",
            labels.defined() ? labels.describe() : std::string("an undefined tensor"));
  SEG_CHECK(K >= 2, "descriptor_bounds: need at least 2 classes, got ", K);
  SEG_CHECK(cfg.size_margin >= 0 && cfg.length_margin >= 0 && cfg.centroid_margin_px >= 0 && cfg.spread_margin_px >= 0 &&
                cfg.reference_size > 0,
            "descriptor_bounds: margins must be non-negative and reference_size positive");
  const Tensor lab = labels.is_cuda() ? labels.to(Device::CPU) : labels;
  const int64_t N = lab.size(0), H = lab.size(1), W = lab.size(2);
  DescriptorBounds b;
  b.classes = resolve_classes(cfg, K);
  b.height = H;
  b.width = W;
  const int64_t C = static_cast<int64_t>(b.classes.size()), R = static_cast<int64_t>(cfg.length_ratios.size());
  for (const auto& [k, l] : cfg.same_centroid)
    SEG_CHECK(k >= 0 && k < K && l >= 0 && l < K, "descriptor_bounds: same_centroid pair (", k, ", ", l,
              ") is outside [0, ", K, ")");
  for (const auto& r : cfg.length_ratios) {
    position(b.classes, r.num, "a length ratio");
    position(b.classes, r.den, "a length ratio");
    SEG_CHECK(r.lo >= 0 && r.lo <= r.hi, "descriptor_bounds: length ratio bounds need 0 <= lo <= hi, got [", r.lo, ", ",
              r.hi, "]");
  }
  std::vector<double> size(N * C * 2), len(N * C * 2), cen(N * C * 4), spr(N * C * 4), present(N * C), active(N * R);
  const double mx_c = cfg.centroid_margin_px * static_cast<double>(W) / cfg.reference_size;
  const double my_c = cfg.centroid_margin_px * static_cast<double>(H) / cfg.reference_size;
  const double mx_d = cfg.spread_margin_px * static_cast<double>(W) / cfg.reference_size;
  const double my_d = cfg.spread_margin_px * static_cast<double>(H) / cfg.reference_size;
  auto pm = [](double v, double m) { return std::pair<double, double>{std::max(0.0, v - m), v + m}; };
  for (int64_t n = 0; n < N; ++n) {
    const SliceDescriptors d = label_descriptors(lab.data<int64_t>() + n * H * W, H, W, K);
    for (int64_t c = 0; c < C; ++c) {
      const size_t k = static_cast<size_t>(b.classes[static_cast<size_t>(c)]);
      const size_t i = static_cast<size_t>(n * C + c);
      const bool here = d.size[k] > 0;
      present[i] = here ? 1 : 0;
      std::tie(size[2 * i], size[2 * i + 1]) = pm(d.size[k], cfg.size_margin * d.size[k]);
      std::tie(len[2 * i], len[2 * i + 1]) = pm(d.length[k], cfg.length_margin * d.length[k]);
      double cx = d.cx[k], cy = d.cy[k];
      for (const auto& [kk, l] : cfg.same_centroid)
        if (static_cast<size_t>(kk) == k && d.size[static_cast<size_t>(l)] > 0) {
          cx = d.cx[static_cast<size_t>(l)];
          cy = d.cy[static_cast<size_t>(l)];
        }
      std::tie(cen[4 * i], cen[4 * i + 1]) = pm(cx, mx_c);
      std::tie(cen[4 * i + 2], cen[4 * i + 3]) = pm(cy, my_c);
      std::tie(spr[4 * i], spr[4 * i + 1]) = pm(d.dx[k], mx_d);
      std::tie(spr[4 * i + 2], spr[4 * i + 3]) = pm(d.dy[k], my_d);
    }
    for (int64_t r = 0; r < R; ++r) {
      const auto& q = cfg.length_ratios[static_cast<size_t>(r)];
      active[static_cast<size_t>(n * R + r)] =
          d.size[static_cast<size_t>(q.num)] > 0 && d.size[static_cast<size_t>(q.den)] > 0 ? 1 : 0;
    }
  }
  b.size = Tensor::from_vector(size, {N, C, 1, 2});
  b.length = Tensor::from_vector(len, {N, C, 1, 2});
  b.centroid = Tensor::from_vector(cen, {N, C, 2, 2});
  b.spread = Tensor::from_vector(spr, {N, C, 2, 2});
  b.present = Tensor::from_vector(present, {N, C});
  b.ratio_active = Tensor::from_vector(active, {N, R});
  return b;
}

namespace {

// Σ over elements of mask·[ψ_t(lower − v) + ψ_t(v − upper)]; v (N, C, D), bounds (N, C, D, 2), mask (N, C, 1|D) or
// undefined (every term applies).
Tensor barrier_sum(const Tensor& v, const Tensor& bounds, const Tensor& mask, double t) {
  const Tensor lo = reshape(narrow(bounds, 3, 0, 1), v.shape()), hi = reshape(narrow(bounds, 3, 1, 1), v.shape());
  Tensor pen = add(log_barrier(sub(lo, v), t), log_barrier(sub(v, hi), t));
  if (mask.defined()) pen = mul(pen, mask);
  return sum_all(pen);
}

Tensor as_like(const Tensor& x, const Tensor& like, const char* name, const Shape& want) {
  SEG_CHECK(x.defined() && x.shape() == want, "descriptor_loss: bounds.", name, " must be ", shape_str(want), ", got ",
            x.defined() ? x.describe() : std::string("an undefined tensor"));
  Tensor y = x.detach();
  if (y.dtype() != like.dtype()) y = y.to(like.dtype());
  if (y.device() != like.device()) y = y.to(like.device());
  return y;
}

void check_ordered(const Tensor& bounds, const char* name) {
  if (bounds.is_cuda()) return;
  const std::vector<double> v = bounds.to_vector();
  for (size_t i = 0; i + 1 < v.size(); i += 2)
    SEG_CHECK(v[i] <= v[i + 1], "descriptor_loss: bounds.", name, " need lower <= upper, got [", v[i], ", ", v[i + 1],
              "] at entry ", i / 2);
}

}  // namespace

DescriptorLossTerms descriptor_loss(const Tensor& p, const DescriptorBounds& b, const DescriptorLossConfig& cfg, double t) {
  const char* op = "descriptor_loss";
  check_float(p, op, "probs");
  check_dim(p, 4, op, "probs");
  SEG_CHECK(t > 0 && std::isfinite(t), op, ": the barrier's t must be positive, got ", t);
  SEG_CHECK(cfg.weight >= 0, op, ": weight must be non-negative, got ", cfg.weight);
  const int64_t N = p.size(0), K = p.size(1), H = p.size(2), W = p.size(3);
  SEG_CHECK(H * W > 0 && N > 0, op, ": empty input ", p.describe());
  SEG_CHECK(b.height == H && b.width == W, op, ": bounds were made for ", b.height, "×", b.width, " slices, probs are ",
            p.describe());
  const std::vector<int64_t> cls = b.classes.empty() ? resolve_classes(cfg, K) : b.classes;
  for (int64_t k : cls) SEG_CHECK(k >= 0 && k < K, op, ": constrained class ", k, " is outside the ", K, " channels of probs");
  const int64_t C = static_cast<int64_t>(cls.size()), R = static_cast<int64_t>(cfg.length_ratios.size());

  // the constrained channels, contiguous runs taken with one narrow each
  std::vector<Tensor> parts;
  for (int64_t i = 0; i < C;) {
    int64_t j = i + 1;
    while (j < C && cls[static_cast<size_t>(j)] == cls[static_cast<size_t>(j - 1)] + 1) ++j;
    parts.push_back(narrow(p, 1, cls[static_cast<size_t>(i)], j - i));
    i = j;
  }
  const Tensor pc = parts.size() == 1 ? parts[0] : cat(parts, 1);
  const double norm = cfg.weight / static_cast<double>(H * W);
  const Tensor zero = Tensor::zeros({}, p.dtype(), p.device());
  DescriptorLossTerms out{zero, zero, zero, zero, zero, zero};
  const Tensor present = as_like(b.present, p, "present", {N, C});
  const Tensor present3 = reshape(present, {N, C, 1});

  if (cfg.size || cfg.centroid || cfg.spread) {
    const ShapeDescriptors d = shape_descriptors(pc);
    if (cfg.size) {
      const Tensor bs = as_like(b.size, p, "size", {N, C, 1, 2});
      check_ordered(bs, "size");
      out.size = scale(barrier_sum(reshape(d.size, {N, C, 1}), bs, Tensor(), t), norm);
    }
    if (cfg.centroid) {
      const Tensor bc = as_like(b.centroid, p, "centroid", {N, C, 2, 2});
      check_ordered(bc, "centroid");
      out.centroid = scale(barrier_sum(d.centroid, bc, present3, t), norm);
    }
    if (cfg.spread) {
      const Tensor bd = as_like(b.spread, p, "spread", {N, C, 2, 2});
      check_ordered(bd, "spread");
      out.spread = scale(barrier_sum(d.spread, bd, present3, t), norm);
    }
  }
  Tensor L;
  if (cfg.length || R > 0) L = length_descriptor(pc, 8);  // (N, C)
  if (cfg.length) {
    const Tensor bl = as_like(b.length, p, "length", {N, C, 1, 2});
    check_ordered(bl, "length");
    out.length = scale(barrier_sum(reshape(L, {N, C, 1}), bl, Tensor(), t), norm);
  }
  if (R > 0) {
    const Tensor active = as_like(b.ratio_active, p, "ratio_active", {N, R});
    Tensor acc = zero;
    for (int64_t r = 0; r < R; ++r) {
      const LengthRatioPrior& q = cfg.length_ratios[static_cast<size_t>(r)];
      const Tensor num = reshape(narrow(L, 1, position(cls, q.num, "a length ratio"), 1), {N});
      const Tensor den = reshape(narrow(L, 1, position(cls, q.den, "a length ratio"), 1), {N});
      const Tensor pen = add(log_barrier(sub(scale(den, q.lo), num), t), log_barrier(sub(num, scale(den, q.hi)), t));
      acc = add(acc, sum_all(mul(pen, reshape(narrow(active, 1, r, 1), {N}))));
    }
    out.ratio = scale(acc, norm);
  }
  out.total = add(add(add(out.size, out.centroid), add(out.spread, out.length)), out.ratio);
  return out;
}

}  // namespace seg
