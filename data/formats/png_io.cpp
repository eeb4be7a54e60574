// libpng reader/writer (see png_io.h).
// Key decision: libpng reports errors by longjmp; setjmp sits in small functions whose only live objects are ones
// declared before it, and the error text is captured and rethrown as std::runtime_error after libpng cleaned up.
#include "data/formats/png_io.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <stdexcept>

#include "data/formats/image_io.h"

namespace seg {

namespace {

struct MemSource {
  const uint8_t* data;
  size_t size;
  size_t off;
};

struct ErrorSink {
  char msg[256];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  std::snprintf(sink->msg, sizeof sink->msg, "%s", msg);
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

void read_mem(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<MemSource*>(png_get_io_ptr(png));
  if (n > src->size - src->off) png_error(png, "truncated data (file ends inside the image)");
  std::memcpy(out, src->data + src->off, n);
  src->off += n;
}

void write_mem(png_structp png, png_bytep in, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), in, in + n);
}
void flush_mem(png_structp) {}

struct Decoded {
  uint32_t w = 0, h = 0;
  int channels = 0, depth = 0;
  std::vector<uint8_t> pixels;  // interleaved, 16-bit samples in host order
};

// Returns "" on success or the error text.
std::string decode(const uint8_t* data, size_t size, Decoded& out) {
  ErrorSink sink{};
  MemSource src{data, size, 0};
  std::vector<png_bytep> rows;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  if (!png) return "out of memory";
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return "out of memory";
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return sink.msg[0] ? sink.msg : "corrupt PNG";
  }
  png_set_read_fn(png, &src, read_mem);
  png_set_user_limits(png, 1u << 16, 1u << 16);  // width/height; the byte total is checked below
  png_set_chunk_malloc_max(png, 64u << 20);
  png_read_info(png, info);
  png_uint_32 w, h;
  int depth, color, interlace;
  png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, nullptr, nullptr);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  png_set_strip_alpha(png);
  if (depth == 16) png_set_swap(png);  // PNG stores 16-bit big-endian
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  out.w = w, out.h = h;
  out.channels = png_get_channels(png, info);
  out.depth = png_get_bit_depth(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  if (static_cast<uint64_t>(rowbytes) * h > (uint64_t(1) << 32)) png_error(png, "image too large");
  out.pixels.resize(rowbytes * h);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = out.pixels.data() + y * rowbytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return "";
}

// Returns "" on success or the error text; `out` receives the encoded file.
std::string encode(int w, int h, int channels, int depth, const uint8_t* pixels, std::vector<uint8_t>& out) {
  ErrorSink sink{};
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  if (!png) return "out of memory";
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    return "out of memory";
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return sink.msg[0] ? sink.msg : "PNG encoding failed";
  }
  png_set_write_fn(png, &out, write_mem, flush_mem);
  png_set_IHDR(png, info, w, h, depth, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (depth == 16) png_set_swap(png);
  const size_t rowbytes = static_cast<size_t>(w) * channels * (depth / 8);
  for (int y = 0; y < h; ++y) rows[y] = const_cast<png_bytep>(pixels + y * rowbytes);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return "";
}

void write_encoded(const std::string& path, int w, int h, int channels, int depth, const uint8_t* pixels) {
  if (w < 1 || h < 1 || w > (1 << 16) || h > (1 << 16))
    throw std::runtime_error(path + ": cannot write a " + std::to_string(w) + "x" + std::to_string(h) + " PNG");
  std::vector<uint8_t> out;
  const std::string err = encode(w, h, channels, depth, pixels, out);
  if (!err.empty()) throw std::runtime_error(path + ": " + err);
  io::write_file_atomic(path, out, false);
}

}  // namespace

Volume decode_png(const uint8_t* data, size_t size, const std::string& name) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size < 8 || std::memcmp(data, sig, 8) != 0) throw std::runtime_error(name + ": bad magic: not a PNG file");
  Decoded d;
  const std::string err = decode(data, size, d);
  if (!err.empty()) throw std::runtime_error(name + ": " + err);
  if (d.channels != 1 && d.channels != 3)
    throw std::runtime_error(name + ": unsupported PNG layout (" + std::to_string(d.channels) + " channels)");
  Volume v;
  v.dims = {static_cast<int64_t>(d.w), static_cast<int64_t>(d.h), 1};
  v.channels = d.channels;
  v.datatype = d.depth == 16 ? "uint16" : "uint8";
  const size_t plane = static_cast<size_t>(d.w) * d.h;
  v.data.resize(plane * d.channels);
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < d.channels; ++c) {
      const size_t s = p * d.channels + c;
      float val;
      if (d.depth == 16) {
        uint16_t u;
        std::memcpy(&u, d.pixels.data() + 2 * s, 2);
        val = u;
      } else {
        val = d.pixels[s];
      }
      v.data[c * plane + p] = val;
    }
  return v;
}

Volume read_png(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  return decode_png(bytes.data(), bytes.size(), path);
}

void write_png(const std::string& path, const Volume& vol) {
  if (vol.nz() != 1) throw std::runtime_error(path + ": PNG holds 2-D images; volume has nz = " + std::to_string(vol.nz()));
  if (vol.channels != 1 && vol.channels != 3)
    throw std::runtime_error(path + ": PNG needs 1 or 3 channels, volume has " + std::to_string(vol.channels));
  const int64_t n = io::checked_elements(vol.dims, vol.channels, path);
  if (static_cast<int64_t>(vol.data.size()) != n) throw std::runtime_error(path + ": volume data size does not match its dims");
  const bool wide = vol.channels == 1 && io::datatype_size(vol.datatype) >= 2;
  const size_t plane = static_cast<size_t>(vol.nx() * vol.ny());
  std::vector<uint8_t> px(static_cast<size_t>(n) * (wide ? 2 : 1));
  const double hi = wide ? 65535.0 : 255.0;
  for (size_t p = 0; p < plane; ++p)
    for (int64_t c = 0; c < vol.channels; ++c) {
      const double x = vol.data[c * plane + p];
      const double q = std::isfinite(x) ? std::clamp(std::nearbyint(x), 0.0, hi) : 0.0;
      const size_t s = p * vol.channels + c;
      if (wide) {
        const uint16_t u = static_cast<uint16_t>(q);
        std::memcpy(px.data() + 2 * s, &u, 2);
      } else {
        px[s] = static_cast<uint8_t>(q);
      }
    }
  write_encoded(path, static_cast<int>(vol.nx()), static_cast<int>(vol.ny()), static_cast<int>(vol.channels),
                wide ? 16 : 8, px.data());
}

void write_png_grey(const std::string& path, int w, int h, const std::vector<uint8_t>& grey) {
  if (w < 1 || h < 1 || grey.size() != static_cast<size_t>(w) * h)
    throw std::runtime_error(path + ": grey buffer holds " + std::to_string(grey.size()) + " bytes, " +
                             std::to_string(w) + "x" + std::to_string(h) + " needs " + std::to_string(int64_t(w) * h));
  write_encoded(path, w, h, 1, 8, grey.data());
}

void write_png_rgb(const std::string& path, int w, int h, const std::vector<uint8_t>& rgb) {
  if (w < 1 || h < 1 || rgb.size() != static_cast<size_t>(w) * h * 3)
    throw std::runtime_error(path + ": RGB buffer holds " + std::to_string(rgb.size()) + " bytes, " +
                             std::to_string(w) + "x" + std::to_string(h) + " needs " + std::to_string(int64_t(w) * h * 3));
  write_encoded(path, w, h, 3, 8, rgb.data());
}

}  // namespace seg
