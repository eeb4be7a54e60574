// libjpeg(-turbo) reader (see jpeg_io.h).
// Key decision: libjpeg's error_exit longjmps back into decode(), whose only live C++ objects were created before
// setjmp; the message is formatted by libjpeg itself and rethrown as std::runtime_error naming the file.
#include "data/formats/jpeg_io.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
#include <jerror.h>

#include "data/formats/image_io.h"

namespace seg {

namespace {

struct ErrorMgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
  bool truncated;
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorMgr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->msg);
  std::longjmp(err->jump, 1);
}
void on_message(j_common_ptr) {}  // libjpeg's own printing: silenced
// Warnings (level -1): libjpeg pads a file that ends early with grey and goes on; we refuse such data instead.
void on_emit(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorMgr*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

std::string decode(const uint8_t* data, size_t size, int& w, int& h, int& channels, std::vector<uint8_t>& pixels) {
  jpeg_decompress_struct cinfo;
  ErrorMgr err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.output_message = on_message;
  err.pub.emit_message = on_emit;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return err.msg;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(err.msg, sizeof err.msg, "unsupported CMYK JPEG");
    std::longjmp(err.jump, 1);
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  w = static_cast<int>(cinfo.output_width), h = static_cast<int>(cinfo.output_height);
  channels = cinfo.output_components;
  if (static_cast<uint64_t>(w) * h * channels > (uint64_t(1) << 30)) {
    std::snprintf(err.msg, sizeof err.msg, "image too large (%dx%d)", w, h);
    std::longjmp(err.jump, 1);
  }
  pixels.resize(static_cast<size_t>(w) * h * channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels.data() + static_cast<size_t>(cinfo.output_scanline) * w * channels;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  if (err.truncated) {
    std::snprintf(err.msg, sizeof err.msg, "truncated data (the JPEG stream ends before the image)");
    std::longjmp(err.jump, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return "";
}

}  // namespace

Volume decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF)
    throw std::runtime_error(name + ": bad magic: not a JPEG file");
  int w = 0, h = 0, c = 0;
  std::vector<uint8_t> px;
  const std::string err = decode(data, size, w, h, c, px);
  if (!err.empty()) throw std::runtime_error(name + ": " + err);
  if (c != 1 && c != 3) throw std::runtime_error(name + ": unsupported JPEG with " + std::to_string(c) + " components");
  Volume v;
  v.dims = {w, h, 1};
  v.channels = c;
  v.datatype = "uint8";
  const size_t plane = static_cast<size_t>(w) * h;
  v.data.resize(plane * c);
  for (size_t p = 0; p < plane; ++p)
    for (int k = 0; k < c; ++k) v.data[k * plane + p] = px[p * c + k];
  return v;
}

Volume read_jpeg(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  return decode_jpeg(bytes.data(), bytes.size(), path);
}

}  // namespace seg
