// Ellipse fitting of 2-D masks: paper 4's post-processing of optic disc and cup (as Fu et al.'s M-Net: threshold the
// probabilities, keep the largest connected region, fit an ellipse to it and use the filled ellipse as the mask).
// Key decisions:
//  * the fit is the direct least-squares conic fit constrained to ellipses (Fitzgibbon, Pilu & Fisher 1999) in the
//    numerically stable form of Halíř & Flusser (1998): minimise Σ (A x² + B xy + C y² + D x + E y + F)² subject to
//    4AC − B² = 1, reduced to a 3×3 eigenproblem (LAPACK dgeev, from OpenBLAS) whose one eigenvector with 4AC − B² > 0
//    is the ellipse. Points are centred and scaled to unit RMS radius first (conditioning); exact points on an
//    ellipse give it back to rounding;
//  * the boundary of a mask is sampled at the midpoints of the pixel edges between the region and the background
//    (the crack boundary), not at boundary pixel centres, which would shrink every fitted ellipse by half a pixel;
//  * coordinates are pixel units with pixel (i, j) centred at x = i, y = j (x along the row, y down the rows); a pixel
//    belongs to a rasterised ellipse when its centre lies inside or on it.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace seg {

struct Ellipse {
  double cx = 0, cy = 0;  // centre (pixels)
  double a = 0, b = 0;    // semi-axes, a ≥ b > 0
  double theta = 0;       // angle of the a-axis from +x towards +y, in (−π/2, π/2]
};

// Conic coefficients [A, B, C, D, E, F] of an ellipse (scaled so that 4AC − B² = 1) and back.
std::array<double, 6> ellipse_to_conic(const Ellipse& e);
std::optional<Ellipse> conic_to_ellipse(const std::array<double, 6>& q);  // nullopt unless a real, non-degenerate ellipse

// Least-squares ellipse through points (x, y); nullopt with fewer than 6 points, collinear points, or no real ellipse.
std::optional<Ellipse> fit_ellipse(const std::vector<std::array<double, 2>>& points);

// Crack-boundary points of a binary mask (nx × ny, x fastest, non-zero = inside): one per pixel edge between an inside
// pixel and an outside pixel or the image border.
std::vector<std::array<double, 2>> mask_boundary_points(const uint8_t* mask, int64_t nx, int64_t ny);

// 0/1 mask of the pixels whose centre lies in the closed ellipse.
std::vector<uint8_t> rasterise_ellipse(const Ellipse& e, int64_t nx, int64_t ny);

// The post-processing: largest 8-connected component, ellipse fitted to its crack boundary, filled. When no ellipse
// can be fitted (empty mask, fewer than 6 boundary points, degenerate) the largest component is returned as it is and
// *fitted (if given) is false.
std::vector<uint8_t> ellipse_fit_mask(const uint8_t* mask, int64_t nx, int64_t ny, bool* fitted = nullptr,
                                      Ellipse* ellipse = nullptr);

}  // namespace seg
