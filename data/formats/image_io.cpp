// read_image / write_image dispatch and the shared reader primitives (see image_io.h).
// Key decision: sizes are int64 with explicit overflow checks; compressed input is inflated in bounded chunks so a
// hostile header or a zip bomb fails with an error instead of exhausting memory.
#include "data/formats/image_io.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "data/formats/dicom.h"
#include "data/formats/gif_io.h"
#include "data/formats/jpeg_io.h"
#include "data/formats/jsrt.h"
#include "data/formats/metaimage.h"
#include "data/formats/nifti.h"
#include "data/formats/nrrd.h"
#include "data/formats/png_io.h"

namespace seg {
namespace io {

static_assert(std::endian::native == std::endian::little, "the readers assume a little-endian host");

size_t datatype_size(const std::string& dt) {
  if (dt == "uint8" || dt == "int8") return 1;
  if (dt == "uint16" || dt == "int16") return 2;
  if (dt == "uint32" || dt == "int32" || dt == "float32") return 4;
  if (dt == "uint64" || dt == "int64" || dt == "float64") return 8;
  return 0;
}

bool datatype_is_integer(const std::string& dt) { return datatype_size(dt) > 0 && dt[0] != 'f'; }

int64_t checked_mul(int64_t a, int64_t b, const std::string& file, const char* what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    throw std::runtime_error(file + ": " + what + " overflows 64 bits (" + std::to_string(a) + " x " +
                             std::to_string(b) + ")");
  return r;
}

int64_t checked_elements(const std::array<int64_t, 3>& dims, int64_t channels, const std::string& file) {
  for (int d = 0; d < 3; ++d)
    if (dims[d] < 1)
      throw std::runtime_error(file + ": dimension " + std::to_string(d) + " is " + std::to_string(dims[d]) +
                               " (must be >= 1)");
  if (channels < 1) throw std::runtime_error(file + ": " + std::to_string(channels) + " channels (must be >= 1)");
  int64_t n = checked_mul(dims[0], dims[1], file, "voxel count");
  n = checked_mul(n, dims[2], file, "voxel count");
  n = checked_mul(n, channels, file, "voxel count");
  if (n > kMaxElements)
    throw std::runtime_error(file + ": " + std::to_string(n) + " voxels exceed the supported maximum of " +
                             std::to_string(kMaxElements));
  return n;
}

namespace {
template <typename T>
T load(const uint8_t* p, bool swap) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if (swap) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    std::reverse(b, b + sizeof(T));
    std::memcpy(&v, b, sizeof(T));
  }
  return v;
}

template <typename T>
void decode_as(const uint8_t* src, size_t n, bool swap, double slope, double inter, float* dst) {
  const bool scale = !(slope == 1.0 && inter == 0.0);
  for (size_t i = 0; i < n; ++i) {
    const T v = load<T>(src + i * sizeof(T), swap);
    dst[i] = scale ? static_cast<float>(static_cast<double>(v) * slope + inter) : static_cast<float>(v);
  }
}

template <typename T>
void encode_as(const float* src, size_t n, uint8_t* dst) {
  for (size_t i = 0; i < n; ++i) {
    T v;
    if constexpr (std::is_integral_v<T>) {
      const double x = std::nearbyint(static_cast<double>(src[i]));
      // NaN becomes 0: integer types have no NaN, and a label map must not carry one.
      if (!(x == x)) v = 0;
      else if (x <= static_cast<double>(std::numeric_limits<T>::lowest())) v = std::numeric_limits<T>::lowest();
      else if (x >= static_cast<double>(std::numeric_limits<T>::max())) v = std::numeric_limits<T>::max();
      else v = static_cast<T>(x);
    } else {
      v = static_cast<T>(src[i]);
    }
    std::memcpy(dst + i * sizeof(T), &v, sizeof(T));
  }
}

template <typename T>
bool fits(const std::vector<float>& data) {
  if constexpr (!std::is_integral_v<T>) {
    return true;
  } else {
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    for (float f : data) {
      const double x = f;
      if (!(x >= lo && x <= hi) || x != std::floor(x)) return false;
    }
    return true;
  }
}

// Calls f.template operator()<T>() with the C++ type of dt.
template <typename F>
auto with_type(const std::string& dt, F&& f) {
  if (dt == "uint8") return f.template operator()<uint8_t>();
  if (dt == "int8") return f.template operator()<int8_t>();
  if (dt == "uint16") return f.template operator()<uint16_t>();
  if (dt == "int16") return f.template operator()<int16_t>();
  if (dt == "uint32") return f.template operator()<uint32_t>();
  if (dt == "int32") return f.template operator()<int32_t>();
  if (dt == "uint64") return f.template operator()<uint64_t>();
  if (dt == "int64") return f.template operator()<int64_t>();
  if (dt == "float32") return f.template operator()<float>();
  if (dt == "float64") return f.template operator()<double>();
  throw std::runtime_error("unsupported datatype '" + dt + "'");
}
}  // namespace

void decode_samples(const uint8_t* src, size_t n, const std::string& dt, bool big_endian, double slope, double inter,
                    float* dst) {
  with_type(dt, [&]<typename T>() { decode_as<T>(src, n, big_endian && sizeof(T) > 1, slope, inter, dst); });
}

std::vector<uint8_t> encode_samples(const float* src, size_t n, const std::string& dt) {
  std::vector<uint8_t> out;
  with_type(dt, [&]<typename T>() {
    out.resize(n * sizeof(T));
    encode_as<T>(src, n, out.data());
  });
  return out;
}

std::pair<double, double> datatype_range(const std::string& dt) {
  return with_type(dt, [&]<typename T>() {
    if constexpr (std::is_integral_v<T>)
      return std::pair<double, double>(static_cast<double>(std::numeric_limits<T>::lowest()),
                                       static_cast<double>(std::numeric_limits<T>::max()));
    else
      return std::pair<double, double>(-std::numeric_limits<float>::max(), std::numeric_limits<float>::max());
  });
}

bool representable(const std::vector<float>& data, const std::string& dt) {
  return with_type(dt, [&]<typename T>() { return fits<T>(data); });
}

// A folder, a device or a pipe (a header's detached-data name can point anywhere, e.g. /dev/zero) is refused before
// it is opened: reading one would never end or block. A missing file is left to fopen, whose error names the cause.
static void check_regular_file(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return;
  if (std::filesystem::is_directory(st)) throw std::runtime_error(path + ": is a folder, expected a file");
  if (!std::filesystem::is_regular_file(st))
    throw std::runtime_error(path + ": is not a regular file (a device, pipe or socket), expected a file");
}

std::vector<uint8_t> read_file(const std::string& path) {
  check_regular_file(path);
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> buf;
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + got);
  const bool err = std::ferror(f);
  std::fclose(f);
  if (err) throw std::runtime_error(path + ": read error");
  return buf;
}

std::vector<uint8_t> read_gz_file(const std::string& path, size_t max_bytes) {
  check_regular_file(path);
  gzFile g = gzopen(path.c_str(), "rb");
  if (!g) throw std::runtime_error(path + ": cannot open (" + std::strerror(errno) + ")");
  gzbuffer(g, 1 << 17);
  std::vector<uint8_t> buf;
  size_t chunk = 1 << 16;  // doubles up to 256 MiB steps: small files stay cheap, big ones need few reallocations
  for (;;) {
    const size_t old = buf.size();
    const size_t want = std::min(chunk, max_bytes + 1 - std::min(old, max_bytes + 1));
    if (want == 0) break;
    buf.resize(old + want);
    const int got = gzread(g, buf.data() + old, static_cast<unsigned>(want));
    if (got < 0) {
      int errnum = 0;
      std::string msg = gzerror(g, &errnum);
      gzclose(g);
      throw std::runtime_error(path + ": corrupt or truncated gzip data (" + msg + ")");
    }
    buf.resize(old + static_cast<size_t>(got));
    if (static_cast<size_t>(got) < want) break;
    chunk = std::min<size_t>(chunk * 2, size_t(1) << 28);
  }
  // gzread reports a stream cut short as a plain end of file; gzerror tells the two apart.
  int errnum = 0;
  std::string msg = gzerror(g, &errnum);
  gzclose(g);
  if (errnum != Z_OK && errnum != Z_STREAM_END)
    throw std::runtime_error(path + ": corrupt or truncated gzip data (" + msg + ")");
  if (buf.size() > max_bytes)
    throw std::runtime_error(path + ": decompresses to more than " + std::to_string(max_bytes) + " bytes");
  return buf;
}

std::vector<uint8_t> inflate_exact(const uint8_t* src, size_t n, size_t expected, const std::string& file) {
  // Deflate cannot expand more than ~1032:1, so a header asking for more than that is a lie we can see before
  // allocating anything (hostile headers would otherwise make us allocate gigabytes).
  if (expected / 1032 > n + 64)
    throw std::runtime_error(file + ": truncated compressed data: header declares " + std::to_string(expected) +
                             " bytes, " + std::to_string(n) + " compressed bytes cannot hold them");
  std::vector<uint8_t> out(expected);
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw std::runtime_error(file + ": zlib init failed");
  size_t in_off = 0, out_off = 0;
  int rc = Z_OK;
  while (out_off < expected) {
    const size_t in_chunk = std::min<size_t>(n - in_off, 1u << 30);
    const size_t out_chunk = std::min<size_t>(expected - out_off, 1u << 30);
    zs.next_in = const_cast<Bytef*>(src + in_off);
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = out.data() + out_off;
    zs.avail_out = static_cast<uInt>(out_chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    in_off += in_chunk - zs.avail_in;
    out_off += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK) {
      std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
      inflateEnd(&zs);
      throw std::runtime_error(file + ": corrupt compressed data (" + msg + ")");
    }
    if (in_chunk - zs.avail_in == 0 && out_chunk - zs.avail_out == 0 && in_off >= n) break;  // input used up
  }
  inflateEnd(&zs);
  if (out_off < expected)
    throw std::runtime_error(file + ": truncated compressed data: header declares " + std::to_string(expected) +
                             " bytes, stream holds " + std::to_string(out_off));
  return out;
}

void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip) {
  const std::string tmp = path + ".tmp";
  bool ok = true;
  if (gzip) {
    gzFile g = gzopen(tmp.c_str(), "wb6");
    if (!g) throw std::runtime_error(path + ": cannot create " + tmp + " (" + std::strerror(errno) + ")");
    size_t off = 0;
    while (ok && off < bytes.size()) {
      const unsigned n = static_cast<unsigned>(std::min<size_t>(bytes.size() - off, 1u << 30));
      ok = gzwrite(g, bytes.data() + off, n) == static_cast<int>(n);
      off += n;
    }
    ok = (gzclose(g) == Z_OK) && ok;
  } else {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw std::runtime_error(path + ": cannot create " + tmp + " (" + std::strerror(errno) + ")");
    ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = (std::fclose(f) == 0) && ok;
  }
  std::error_code ec;
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(path + ": write failed (disk full?)");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(path + ": cannot rename " + tmp + " into place");
  }
}

std::string format_double(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

bool parse_doubles(const std::string& text, std::vector<double>& out) {
  out.clear();
  std::string tok;
  auto flush = [&]() {
    if (tok.empty()) return true;
    if (tok[0] == '+') tok.erase(0, 1);
    double v = 0;
    const auto res = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (res.ec != std::errc() || res.ptr != tok.data() + tok.size() || !std::isfinite(v)) return false;
    out.push_back(v);
    tok.clear();
    return true;
  };
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == ',' || c == '(' || c == ')' || c == '\r' || c == '\n' || c == '[' || c == ']') {
      if (!flush()) return false;
    } else {
      tok += c;
    }
  }
  return flush();
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return s.substr(a, b - a);
}

std::string extension(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  auto ends = [&](const std::string& s) { return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
  for (const char* e : {".nii.gz", ".nrrd.gz"})
    if (ends(e)) return std::string(e + 1);
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? "" : name.substr(dot + 1);
}

namespace {
void print_warning(const std::string& msg) { std::fprintf(stderr, "warning: %s\n", msg.c_str()); }
std::atomic<WarningHandler> g_warning_handler{print_warning};
}  // namespace

void warn(const std::string& msg) {
  const WarningHandler h = g_warning_handler.load();
  (h ? h : print_warning)(msg);
}

WarningHandler set_warning_handler(WarningHandler h) { return g_warning_handler.exchange(h ? h : print_warning); }

}  // namespace io

Volume read_image(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return read_dicom(path);
  const std::string ext = io::extension(path);
  if (ext == "nii" || ext == "nii.gz") return read_nifti(path);
  if (ext == "mha" || ext == "mhd") return read_metaimage(path);
  if (ext == "nrrd" || ext == "nhdr") return read_nrrd(path);
  if (ext == "png") return read_png(path);
  if (ext == "jpg" || ext == "jpeg") return read_jpeg(path);
  if (ext == "gif") return read_gif(path);
  if (ext == "img") return read_jsrt(path);
  if (ext == "dcm") return read_dicom(path);
  throw std::runtime_error(path + ": unknown image extension '" + ext +
                           "' (expected .nii, .nii.gz, .mha, .mhd, .nrrd, .nhdr, .png, .jpg, .jpeg, .gif, .IMG, or a DICOM "
                           "folder)");
}

void write_image(const std::string& path, const Volume& vol) {
  const std::string ext = io::extension(path);
  if (ext == "nii" || ext == "nii.gz") return write_nifti(path, vol);
  if (ext == "mha") return write_metaimage(path, vol, true);
  if (ext == "mhd") return write_metaimage(path, vol, false);
  if (ext == "nrrd") return write_nrrd(path, vol, true);
  if (ext == "png") return write_png(path, vol);
  throw std::runtime_error(path + ": cannot write extension '" + ext +
                           "' (writable: .nii, .nii.gz, .mha, .mhd, .nrrd, .png)");
}

}  // namespace seg
