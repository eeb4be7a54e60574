// Ellipse fitting of masks (see ellipse_fit.h).
#include "data/transforms/ellipse_fit.h"

#include <cmath>
#include <limits>

#include "data/transforms/components.h"

extern "C" void dgeev_(const char* jobvl, const char* jobvr, const int* n, double* a, const int* lda, double* wr,
                       double* wi, double* vl, const int* ldvl, double* vr, const int* ldvr, double* work,
                       const int* lwork, int* info);

namespace seg {

namespace {

constexpr double kPi = 3.14159265358979323846;

using M3 = std::array<std::array<double, 3>, 3>;

// Inverse of a symmetric positive semi-definite 3×3 matrix; false when (nearly) singular relative to its scale.
bool invert3(const M3& m, M3& inv) {
  const double c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1], c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2],
               c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
  const double det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
  double scale = 0;
  for (const auto& r : m)
    for (double v : r) scale = std::max(scale, std::fabs(v));
  if (!(std::fabs(det) > 1e-12 * scale * scale * scale)) return false;
  inv[0] = {c00 / det, (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det, (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det};
  inv[1] = {c01 / det, (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det, (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det};
  inv[2] = {c02 / det, (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det, (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det};
  return true;
}

M3 mul(const M3& a, const M3& b) {
  M3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i][j] += a[i][k] * b[k][j];
  return c;
}

std::array<double, 3> mulv(const M3& a, const std::array<double, 3>& v) {
  return {a[0][0] * v[0] + a[0][1] * v[1] + a[0][2] * v[2], a[1][0] * v[0] + a[1][1] * v[1] + a[1][2] * v[2],
          a[2][0] * v[0] + a[2][1] * v[1] + a[2][2] * v[2]};
}

}  // namespace

std::array<double, 6> ellipse_to_conic(const Ellipse& e) {
  const double s = std::sin(e.theta), c = std::cos(e.theta), a2 = e.a * e.a, b2 = e.b * e.b;
  const double A = a2 * s * s + b2 * c * c, B = 2 * (b2 - a2) * s * c, C = a2 * c * c + b2 * s * s;
  const double D = -2 * A * e.cx - B * e.cy, E = -B * e.cx - 2 * C * e.cy;
  const double F = A * e.cx * e.cx + B * e.cx * e.cy + C * e.cy * e.cy - a2 * b2;
  const double k = 2 * e.a * e.b;  // 4AC − B² = 4a²b²
  return {A / k, B / k, C / k, D / k, E / k, F / k};
}

std::optional<Ellipse> conic_to_ellipse(const std::array<double, 6>& q) {
  double A = q[0], B = q[1], C = q[2], D = q[3], E = q[4], F = q[5];
  const double den = B * B - 4 * A * C;
  if (!(den < 0) || !std::isfinite(den)) return std::nullopt;
  if (A + C < 0) A = -A, B = -B, C = -C, D = -D, E = -E, F = -F;
  const double num = 2 * (A * E * E + C * D * D - B * D * E + den * F);
  const double r = std::sqrt((A - C) * (A - C) + B * B);
  if (!(num > 0) || !(A + C - r > 0)) return std::nullopt;  // imaginary or degenerate
  Ellipse e;
  e.cx = (2 * C * D - B * E) / den;
  e.cy = (2 * A * E - B * D) / den;
  e.a = -std::sqrt(num * (A + C + r)) / den;
  e.b = -std::sqrt(num * (A + C - r)) / den;
  if (B != 0) e.theta = std::atan((C - A - r) / B);
  else e.theta = A <= C ? 0.0 : kPi / 2;
  if (e.theta <= -kPi / 2) e.theta += kPi;
  if (!std::isfinite(e.cx) || !std::isfinite(e.cy) || !(e.a > 0) || !(e.b > 0)) return std::nullopt;
  return e;
}

std::optional<Ellipse> fit_ellipse(const std::vector<std::array<double, 2>>& pts) {
  const size_t n = pts.size();
  if (n < 6) return std::nullopt;
  // Centre and scale to unit RMS radius.
  double mx = 0, my = 0;
  for (const auto& p : pts) mx += p[0], my += p[1];
  mx /= static_cast<double>(n), my /= static_cast<double>(n);
  double rms = 0;
  for (const auto& p : pts) rms += (p[0] - mx) * (p[0] - mx) + (p[1] - my) * (p[1] - my);
  rms = std::sqrt(rms / static_cast<double>(n));
  if (!(rms > 0)) return std::nullopt;
  // Scatter blocks of D1 = [x², xy, y²] and D2 = [x, y, 1].
  M3 S1{}, S2{}, S3{};
  for (const auto& p : pts) {
    const double x = (p[0] - mx) / rms, y = (p[1] - my) / rms;
    const std::array<double, 3> d1{x * x, x * y, y * y}, d2{x, y, 1.0};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) S1[i][j] += d1[i] * d1[j], S2[i][j] += d1[i] * d2[j], S3[i][j] += d2[i] * d2[j];
  }
  M3 S3inv;
  if (!invert3(S3, S3inv)) return std::nullopt;  // collinear points
  M3 S2t{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) S2t[i][j] = S2[j][i];
  M3 T = mul(S3inv, S2t);  // the linear part is a2 = −T·a1
  for (auto& r : T)
    for (double& v : r) v = -v;
  M3 Mr = S1;  // reduced scatter S1 + S2·T
  const M3 S2T = mul(S2, T);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) Mr[i][j] += S2T[i][j];
  // C1⁻¹·Mr with C1 = [[0, 0, 2], [0, −1, 0], [2, 0, 0]].
  M3 K{};
  K[0] = {Mr[2][0] / 2, Mr[2][1] / 2, Mr[2][2] / 2};
  K[1] = {-Mr[1][0], -Mr[1][1], -Mr[1][2]};
  K[2] = {Mr[0][0] / 2, Mr[0][1] / 2, Mr[0][2] / 2};
  double a[9], wr[3], wi[3], vr[9], work[64];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a[i + 3 * j] = K[i][j];  // column-major
  const int three = 3, one = 1, lwork = 64;
  int info = 0;
  double vl_dummy[1];
  dgeev_("N", "V", &three, a, &three, wr, wi, vl_dummy, &one, vr, &three, work, &lwork, &info);
  if (info != 0) return std::nullopt;
  // The eigenvector with 4AC − B² > 0, scaled to 4AC − B² = 1; several (rounding) → the smallest algebraic cost.
  std::optional<std::array<double, 3>> best;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int k = 0; k < 3; ++k) {
    if (wi[k] != 0) continue;
    std::array<double, 3> v{vr[3 * k], vr[3 * k + 1], vr[3 * k + 2]};
    const double cond = 4 * v[0] * v[2] - v[1] * v[1];
    if (!(cond > 0)) continue;
    const double s = 1 / std::sqrt(cond);
    for (double& x : v) x *= s;
    const std::array<double, 3> mv = mulv(Mr, v);
    const double cost = std::fabs(v[0] * mv[0] + v[1] * mv[1] + v[2] * mv[2]);
    if (cost < best_cost) best_cost = cost, best = v;
  }
  if (!best) return std::nullopt;
  const std::array<double, 3> a1 = *best, a2 = mulv(T, a1);
  auto e = conic_to_ellipse({a1[0], a1[1], a1[2], a2[0], a2[1], a2[2]});
  if (!e) return std::nullopt;
  e->cx = e->cx * rms + mx, e->cy = e->cy * rms + my;
  e->a *= rms, e->b *= rms;
  return e;
}

std::vector<std::array<double, 2>> mask_boundary_points(const uint8_t* m, int64_t nx, int64_t ny) {
  std::vector<std::array<double, 2>> out;
  auto in = [&](int64_t i, int64_t j) { return i >= 0 && j >= 0 && i < nx && j < ny && m[i + nx * j] != 0; };
  for (int64_t j = 0; j < ny; ++j)
    for (int64_t i = 0; i < nx; ++i) {
      if (!in(i, j)) continue;
      const double x = static_cast<double>(i), y = static_cast<double>(j);
      if (!in(i - 1, j)) out.push_back({x - 0.5, y});
      if (!in(i + 1, j)) out.push_back({x + 0.5, y});
      if (!in(i, j - 1)) out.push_back({x, y - 0.5});
      if (!in(i, j + 1)) out.push_back({x, y + 0.5});
    }
  return out;
}

std::vector<uint8_t> rasterise_ellipse(const Ellipse& e, int64_t nx, int64_t ny) {
  std::vector<uint8_t> out(static_cast<size_t>(nx * ny), 0);
  const double c = std::cos(e.theta), s = std::sin(e.theta);
  for (int64_t j = 0; j < ny; ++j)
    for (int64_t i = 0; i < nx; ++i) {
      const double dx = static_cast<double>(i) - e.cx, dy = static_cast<double>(j) - e.cy;
      const double u = (c * dx + s * dy) / e.a, v = (-s * dx + c * dy) / e.b;
      out[static_cast<size_t>(i + nx * j)] = u * u + v * v <= 1.0 + 1e-12;
    }
  return out;
}

std::vector<uint8_t> ellipse_fit_mask(const uint8_t* mask, int64_t nx, int64_t ny, bool* fitted, Ellipse* ellipse) {
  std::vector<uint8_t> largest = keep_largest_component(mask, {nx, ny, 1}, 26);  // 8-connected in the plane
  const auto e = fit_ellipse(mask_boundary_points(largest.data(), nx, ny));
  if (fitted) *fitted = e.has_value();
  if (!e) return largest;
  if (ellipse) *ellipse = *e;
  return rasterise_ellipse(*e, nx, ny);
}

}  // namespace seg
