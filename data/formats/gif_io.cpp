// giflib reader/writer (see gif_io.h).
// Key decision: both directions go through memory (giflib's user read/write callbacks), so the reader sees exactly
// the bytes io::read_file checked and the writer uses the project's atomic file write.
#include "data/formats/gif_io.h"

#include <gif_lib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "data/formats/image_io.h"

namespace seg {

namespace {

struct MemSource {
  const uint8_t* data;
  size_t size;
  size_t off;
};

int read_mem(GifFileType* gif, GifByteType* out, int n) {
  auto* src = static_cast<MemSource*>(gif->UserData);
  const size_t k = std::min(static_cast<size_t>(std::max(n, 0)), src->size - src->off);
  std::memcpy(out, src->data + src->off, k);
  src->off += k;
  return static_cast<int>(k);
}

int write_mem(GifFileType* gif, const GifByteType* in, int n) {
  auto* out = static_cast<std::vector<uint8_t>*>(gif->UserData);
  out->insert(out->end(), in, in + n);
  return n;
}

std::string gif_error(int code) {
  const char* s = GifErrorString(code);
  return s ? s : "giflib error " + std::to_string(code);
}

struct Closer {
  void operator()(GifFileType* g) const {
    int err = 0;
    DGifCloseFile(g, &err);
  }
};

}  // namespace

Volume decode_gif(const uint8_t* data, size_t size, const std::string& name) {
  MemSource src{data, size, 0};
  int err = 0;
  std::unique_ptr<GifFileType, Closer> gif(DGifOpen(&src, read_mem, &err));
  if (!gif) throw std::runtime_error(name + ": not a readable GIF (" + gif_error(err) + ")");
  io::checked_elements({std::max<int64_t>(gif->SWidth, 1), std::max<int64_t>(gif->SHeight, 1), 1}, 3, name);
  if (DGifSlurp(gif.get()) != GIF_OK) throw std::runtime_error(name + ": corrupt GIF (" + gif_error(gif->Error) + ")");
  if (gif->ImageCount < 1) throw std::runtime_error(name + ": the GIF holds no image");
  const SavedImage& im = gif->SavedImages[0];
  const GifImageDesc& d = im.ImageDesc;
  const int64_t W = gif->SWidth > 0 ? gif->SWidth : d.Width, H = gif->SHeight > 0 ? gif->SHeight : d.Height;
  io::checked_elements({W, H, 1}, 3, name);
  if (d.Width < 1 || d.Height < 1 || d.Left < 0 || d.Top < 0 || d.Left + d.Width > W || d.Top + d.Height > H)
    throw std::runtime_error(name + ": the first image (" + std::to_string(d.Width) + " x " + std::to_string(d.Height) +
                             " at " + std::to_string(d.Left) + ", " + std::to_string(d.Top) +
                             ") does not fit the logical screen (" + std::to_string(W) + " x " + std::to_string(H) + ")");
  const ColorMapObject* map = d.ColorMap ? d.ColorMap : gif->SColorMap;
  if (!map || map->ColorCount < 1) throw std::runtime_error(name + ": the GIF has no colour map");
  bool grey = true;
  for (int i = 0; i < map->ColorCount; ++i)
    grey = grey && map->Colors[i].Red == map->Colors[i].Green && map->Colors[i].Green == map->Colors[i].Blue;
  const int channels = grey ? 1 : 3;
  Volume v = Volume::make({W, H, 1}, {1, 1, 1});
  v.channels = channels;
  v.datatype = "uint8";
  v.data.assign(static_cast<size_t>(W * H * channels), 0.f);
  const size_t plane = static_cast<size_t>(W * H);
  auto paint = [&](size_t p, int index) {
    if (index < 0 || index >= map->ColorCount)
      throw std::runtime_error(name + ": pixel index " + std::to_string(index) + " outside the colour map (" +
                               std::to_string(map->ColorCount) + " entries)");
    const GifColorType& c = map->Colors[index];
    v.data[p] = c.Red;
    if (!grey) v.data[plane + p] = c.Green, v.data[2 * plane + p] = c.Blue;
  };
  if (d.Left > 0 || d.Top > 0 || d.Width < W || d.Height < H) {
    const int bg = gif->SBackGroundColor < map->ColorCount ? gif->SBackGroundColor : 0;
    for (size_t p = 0; p < plane; ++p) paint(p, bg);
  }
  for (int y = 0; y < d.Height; ++y)
    for (int x = 0; x < d.Width; ++x)
      paint(static_cast<size_t>((d.Top + y) * W + d.Left + x), im.RasterBits[static_cast<size_t>(y) * d.Width + x]);
  return v;
}

Volume read_gif(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  return decode_gif(bytes.data(), bytes.size(), path);
}

void write_gif_grey(const std::string& path, int w, int h, const std::vector<uint8_t>& grey) {
  if (w < 1 || h < 1 || w > 65535 || h > 65535 || grey.size() != static_cast<size_t>(w) * static_cast<size_t>(h))
    throw std::invalid_argument(path + ": write_gif_grey needs 1..65535 x 1..65535 pixels and w*h bytes");
  std::vector<uint8_t> out;
  int err = 0;
  GifFileType* gif = EGifOpen(&out, write_mem, &err);
  if (!gif) throw std::runtime_error(path + ": cannot start a GIF (" + gif_error(err) + ")");
  ColorMapObject* map = GifMakeMapObject(256, nullptr);
  if (!map) {
    EGifCloseFile(gif, &err);
    throw std::runtime_error(path + ": out of memory");
  }
  for (int i = 0; i < 256; ++i) map->Colors[i] = {static_cast<GifByteType>(i), static_cast<GifByteType>(i),
                                                  static_cast<GifByteType>(i)};
  bool ok = EGifPutScreenDesc(gif, w, h, 8, 0, map) == GIF_OK && EGifPutImageDesc(gif, 0, 0, w, h, false, nullptr) == GIF_OK;
  std::vector<GifPixelType> row(static_cast<size_t>(w));
  for (int y = 0; ok && y < h; ++y) {
    std::copy(grey.begin() + static_cast<ptrdiff_t>(y) * w, grey.begin() + static_cast<ptrdiff_t>(y + 1) * w, row.begin());
    ok = EGifPutLine(gif, row.data(), w) == GIF_OK;
  }
  const int code = gif->Error;
  GifFreeMapObject(map);
  if (EGifCloseFile(gif, &err) != GIF_OK && ok) ok = false, err = err ? err : code;
  if (!ok) throw std::runtime_error(path + ": GIF encoding failed (" + gif_error(code ? code : err) + ")");
  io::write_file_atomic(path, out, false);
}

}  // namespace seg
