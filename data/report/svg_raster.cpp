// SVG → PNG through librsvg (see svg_raster.h).
#include "data/report/svg_raster.h"

#include <cairo.h>
#include <librsvg/rsvg.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>

namespace seg {

void write_png_from_svg(const std::string& svg_path, const std::string& png_path, double scale) {
  if (!(scale > 0)) throw std::invalid_argument("write_png_from_svg: scale must be > 0");
  GError* err = nullptr;
  RsvgHandle* h = rsvg_handle_new_from_file(svg_path.c_str(), &err);
  if (!h) {
    const std::string why = err ? err->message : "unknown error";
    if (err) g_error_free(err);
    throw std::runtime_error(svg_path + ": cannot read SVG (" + why + ")");
  }
  gdouble w = 0, hgt = 0;
  if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &hgt) || !(w > 0) || !(hgt > 0)) {
    g_object_unref(h);
    throw std::runtime_error(svg_path + ": the SVG has no width/height in pixels");
  }
  const int W = static_cast<int>(std::ceil(w * scale)), H = static_cast<int>(std::ceil(hgt * scale));
  cairo_surface_t* surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, W, H);
  cairo_t* cr = cairo_create(surf);
  const RsvgRectangle viewport{0, 0, static_cast<double>(W), static_cast<double>(H)};
  const gboolean ok = rsvg_handle_render_document(h, cr, &viewport, &err);
  cairo_destroy(cr);
  g_object_unref(h);
  if (!ok) {
    const std::string why = err ? err->message : "unknown error";
    if (err) g_error_free(err);
    cairo_surface_destroy(surf);
    throw std::runtime_error(svg_path + ": cannot render SVG (" + why + ")");
  }
  const std::string tmp = png_path + ".tmp";
  const cairo_status_t st = cairo_surface_write_to_png(surf, tmp.c_str());
  cairo_surface_destroy(surf);
  if (st != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(png_path + ": cannot write PNG (" + cairo_status_to_string(st) + ")");
  std::filesystem::rename(tmp, png_path);
}

}  // namespace seg
