// Overlay composition (see overlay.h): outlines are mask pixels with a 4-neighbour outside the mask.
#include "data/report/overlay.h"

#include <algorithm>

namespace seg {

namespace {
bool boundary(const uint8_t* m, int h, int w, int y, int x) {
  if (!m[y * w + x]) return false;
  const int dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
  for (int k = 0; k < 4; ++k) {
    const int yy = y + dy[k], xx = x + dx[k];
    if (yy < 0 || yy >= h || xx < 0 || xx >= w || !m[yy * w + xx]) return true;
  }
  return false;
}
}  // namespace

RgbImage make_overlay(const float* image, const uint8_t* gt, const uint8_t* pred, int h, int w, int up) {
  RgbImage out;
  out.width = 2 * w * up + up * 4;  // two panels and a white gap
  out.height = h * up;
  out.rgb.assign(static_cast<size_t>(out.width) * out.height * 3, 255);
  auto put = [&](int y, int x, uint8_t r, uint8_t g, uint8_t b) {
    for (int a = 0; a < up; ++a)
      for (int c = 0; c < up; ++c) {
        uint8_t* p = &out.rgb[(static_cast<size_t>(y * up + a) * out.width + x * up + c) * 3];
        p[0] = r; p[1] = g; p[2] = b;
      }
  };
  const int off = w + 4;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const auto v = static_cast<uint8_t>(std::clamp(image[y * w + x], 0.f, 1.f) * 255.f + 0.5f);
      put(y, x, v, v, v);
      const bool g = gt && boundary(gt, h, w, y, x), p = pred && boundary(pred, h, w, y, x);
      if (g && p) put(y, x + off, 255, 230, 0);
      else if (g) put(y, x + off, 0, 220, 0);
      else if (p) put(y, x + off, 255, 40, 40);
      else put(y, x + off, v, v, v);
    }
  return out;
}

}  // namespace seg
