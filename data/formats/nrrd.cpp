// NRRD reader/writer (see nrrd.h), following teem's format spec (teem.sourceforge.net/nrrd/format.html).
// Key decision: field names are matched case-insensitively and the header ends at the first empty line; data is
// then decoded with the declared size checked against what the file (or its gzip stream) really holds.
#include "data/formats/nrrd.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>

#include "data/formats/image_io.h"

namespace seg {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string nrrd_type(std::string t) {
  t = lower(io::trim(t));
  static const std::map<std::string, std::string> m = {
      {"signed char", "int8"}, {"int8", "int8"}, {"int8_t", "int8"},
      {"uchar", "uint8"}, {"unsigned char", "uint8"}, {"uint8", "uint8"}, {"uint8_t", "uint8"},
      {"short", "int16"}, {"short int", "int16"}, {"signed short", "int16"}, {"signed short int", "int16"},
      {"int16", "int16"}, {"int16_t", "int16"},
      {"ushort", "uint16"}, {"unsigned short", "uint16"}, {"unsigned short int", "uint16"}, {"uint16", "uint16"},
      {"uint16_t", "uint16"},
      {"int", "int32"}, {"signed int", "int32"}, {"int32", "int32"}, {"int32_t", "int32"},
      {"uint", "uint32"}, {"unsigned int", "uint32"}, {"uint32", "uint32"}, {"uint32_t", "uint32"},
      {"longlong", "int64"}, {"long long", "int64"}, {"long long int", "int64"}, {"signed long long", "int64"},
      {"signed long long int", "int64"}, {"int64", "int64"}, {"int64_t", "int64"},
      {"ulonglong", "uint64"}, {"unsigned long long", "uint64"}, {"unsigned long long int", "uint64"},
      {"uint64", "uint64"}, {"uint64_t", "uint64"},
      {"float", "float32"}, {"double", "float64"}};
  const auto it = m.find(t);
  return it == m.end() ? "" : it->second;
}

std::string nrrd_type_name(const std::string& dt) {
  static const std::map<std::string, std::string> m = {
      {"int8", "int8"},   {"uint8", "uint8"},   {"int16", "int16"}, {"uint16", "uint16"}, {"int32", "int32"},
      {"uint32", "uint32"}, {"int64", "int64"}, {"uint64", "uint64"}, {"float32", "float"}, {"float64", "double"}};
  const auto it = m.find(dt);
  return it == m.end() ? "" : it->second;
}

// Splits "(1,0,0) none (0,1,0)" into one entry per axis: the vector, or empty for "none".
bool parse_directions(const std::string& text, std::vector<std::vector<double>>& out) {
  out.clear();
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
    } else if (text[i] == '(') {
      const size_t close = text.find(')', i);
      if (close == std::string::npos) return false;
      std::vector<double> v;
      if (!io::parse_doubles(text.substr(i + 1, close - i - 1), v) || v.empty()) return false;
      out.push_back(v);
      i = close + 1;
    } else if (lower(text.substr(i, 4)) == "none") {
      out.push_back({});
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

std::string printable(const std::string& s) {
  std::string o;
  for (char c : s.substr(0, 60)) o += (c >= 32 && c < 127) ? c : '?';
  return o;
}

}  // namespace

Volume parse_nrrd(const std::vector<uint8_t>& bytes, const std::string& name, const std::string& dir) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), "NRRD000", 7) != 0 || bytes[7] < '1' || bytes[7] > '5')
    throw std::runtime_error(name + ": bad magic: not an NRRD file (expected NRRD0001..NRRD0005)");
  std::map<std::string, std::string> f;
  size_t pos = 0;
  bool first = true, ended = false;
  const size_t cap = std::min<size_t>(bytes.size(), 1 << 20);
  while (pos < cap) {
    size_t eol = pos;
    while (eol < cap && bytes[eol] != '\n') ++eol;
    std::string line(bytes.begin() + pos, bytes.begin() + eol);
    pos = std::min(eol + 1, bytes.size());
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first) {
      first = false;
      continue;
    }
    if (line.empty()) {
      ended = true;
      break;
    }
    if (line[0] == '#') continue;
    if (line.find(":=") != std::string::npos) continue;  // key/value pairs carry no geometry
    const auto colon = line.find(": ");
    if (colon == std::string::npos)
      throw std::runtime_error(name + ": bad header line '" + printable(line) + "' (expected 'field: value')");
    f[lower(io::trim(line.substr(0, colon)))] = io::trim(line.substr(colon + 2));
    if (eol >= cap) break;
  }
  const auto get = [&](const char* a, const char* b = nullptr) -> std::string {
    auto it = f.find(a);
    if (it == f.end() && b) it = f.find(b);
    return it == f.end() ? "" : it->second;
  };
  const std::string type = nrrd_type(get("type"));
  if (type.empty()) throw std::runtime_error(name + ": unsupported or missing type '" + printable(get("type")) + "'");
  std::vector<double> dimv, sizes;
  if (!io::parse_doubles(get("dimension"), dimv) || dimv.size() != 1 || dimv[0] < 1 || dimv[0] > 4 ||
      dimv[0] != std::floor(dimv[0]))
    throw std::runtime_error(name + ": unsupported dimension '" + printable(get("dimension")) + "' (1..4 supported)");
  const int ndim = static_cast<int>(dimv[0]);
  if (!io::parse_doubles(get("sizes"), sizes) || static_cast<int>(sizes.size()) != ndim)
    throw std::runtime_error(name + ": bad header: sizes '" + printable(get("sizes")) + "' do not match dimension " +
                             std::to_string(ndim));
  for (double s : sizes)
    if (!(s >= 1 && s <= 1e12) || s != std::floor(s))
      throw std::runtime_error(name + ": bad header: size " + io::format_double(s) + " (must be a positive integer)");

  // Which axes are spatial: those with a direction vector, or (without space directions) up to three.
  std::vector<std::vector<double>> dirs;
  const std::string sd = get("space directions");
  if (!sd.empty() && (!parse_directions(sd, dirs) || static_cast<int>(dirs.size()) != ndim))
    throw std::runtime_error(name + ": bad header: space directions '" + printable(sd) + "' (need one per axis)");
  std::vector<int> spatial;
  int channel_axis = -1;
  for (int a = 0; a < ndim; ++a) {
    const bool is_spatial = dirs.empty() ? (ndim < 4 || a > 0) : !dirs[a].empty();
    if (is_spatial) spatial.push_back(a);
    else if (channel_axis < 0) channel_axis = a;
    else throw std::runtime_error(name + ": more than one non-spatial axis is not supported");
  }
  if (spatial.size() > 3) throw std::runtime_error(name + ": more than three spatial axes");
  if (channel_axis > 0 && channel_axis != ndim - 1)
    throw std::runtime_error(name + ": a non-spatial axis between spatial axes is not supported");

  Volume v;
  v.datatype = type;
  for (size_t i = 0; i < spatial.size(); ++i) v.dims[i] = static_cast<int64_t>(sizes[spatial[i]]);
  v.channels = channel_axis >= 0 ? static_cast<int64_t>(sizes[channel_axis]) : 1;
  const int64_t n = io::checked_elements(v.dims, v.channels, name);
  const int64_t nbytes = io::checked_mul(n, static_cast<int64_t>(io::datatype_size(type)), name, "data size");

  // Geometry. Space LPS-like frames flip x and y into RAS.
  const std::string space = lower(get("space"));
  double fx = 1, fy = 1;
  if (space == "left-posterior-superior" || space == "lps" || space == "scanner-xyz" || space == "3d-left-handed")
    fx = fy = -1;
  else if (space == "left-anterior-superior" || space == "las")
    fx = -1;
  // spacings: one per axis, "nan" (the spec's "unknown", also the non-spatial axis's) or a number. Used only without
  // space directions. For a spatial axis: nan -> 1 mm assumed with a warning; 0 -> an error; negative -> the axis
  // runs backwards (the affine keeps the sign, Volume::spacing the magnitude) with a warning.
  std::vector<double> spacings;
  if (!get("spacings").empty()) {
    std::istringstream is(get("spacings"));
    std::string tok;
    while (is >> tok) {
      std::vector<double> one;
      if (lower(tok) == "nan") spacings.push_back(std::nan(""));
      else if (io::parse_doubles(tok, one) && one.size() == 1) spacings.push_back(one[0]);
      else throw std::runtime_error(name + ": bad header: spacings '" + printable(get("spacings")) + "' (token '" +
                                    printable(tok) + "' is neither a number nor nan)");
    }
    if (static_cast<int>(spacings.size()) != ndim)
      throw std::runtime_error(name + ": bad header: spacings '" + printable(get("spacings")) + "' has " +
                               std::to_string(spacings.size()) + " entries for dimension " + std::to_string(ndim));
  }
  std::vector<double> origin;
  if (!get("space origin").empty()) {
    std::vector<std::vector<double>> o;
    if (!parse_directions(get("space origin"), o) || o.size() != 1 || o[0].empty())
      throw std::runtime_error(name + ": bad header: space origin '" + printable(get("space origin")) + "'");
    origin = o[0];
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) v.affine[r][c] = 0;
  for (int i = 0; i < 3; ++i) {
    std::vector<double> col(3, 0.0);
    if (i < static_cast<int>(spatial.size()) && !dirs.empty()) {
      const auto& d = dirs[spatial[i]];
      for (size_t r = 0; r < 3 && r < d.size(); ++r) col[r] = d[r];
    } else {
      double sp = 1.0;
      if (i < static_cast<int>(spatial.size()) && spatial[i] < static_cast<int>(spacings.size())) {
        const double raw = spacings[spatial[i]];
        const std::string axis = "axis " + std::to_string(spatial[i]);
        if (std::isnan(raw)) {
          io::warn(name + ": spacing of " + axis + " is nan (unknown); assuming 1 mm");
        } else if (raw == 0.0) {
          throw std::runtime_error(name + ": bad header: spacing of " + axis + " is 0 (must be non-zero)");
        } else {
          if (raw < 0)
            io::warn(name + ": spacing of " + axis + " is " + io::format_double(raw) + " (negative): read as " +
                     io::format_double(-raw) + " mm with that axis running backwards");
          sp = raw;
        }
      }
      col[i] = sp;
    }
    const double len = std::sqrt(col[0] * col[0] + col[1] * col[1] + col[2] * col[2]);
    if (!(len > 0)) throw std::runtime_error(name + ": bad header: zero-length space direction for axis " + std::to_string(i));
    v.spacing[i] = len;
    v.affine[0][i] = fx * col[0], v.affine[1][i] = fy * col[1], v.affine[2][i] = col[2];
  }
  v.affine[0][3] = fx * (origin.size() > 0 ? origin[0] : 0.0);
  v.affine[1][3] = fy * (origin.size() > 1 ? origin[1] : 0.0);
  v.affine[2][3] = origin.size() > 2 ? origin[2] : 0.0;

  for (auto& row : v.affine)
    for (double& x : row) x += 0.0;  // -0 from the LPS flip prints as "-0"
  // Data: attached after the blank line, or in a detached file.
  std::vector<uint8_t> external;
  const uint8_t* src;
  size_t avail;
  std::string data_name = name;
  const std::string data_file = get("data file", "datafile");
  if (!data_file.empty()) {
    if (data_file.find(' ') != std::string::npos || lower(data_file).rfind("list", 0) == 0)
      throw std::runtime_error(name + ": data file '" + printable(data_file) + "' (a list or pattern) is not supported");
    data_name = (std::filesystem::path(dir) / data_file).string();
    try {
      external = io::read_file(data_name);
    } catch (const std::exception& e) {
      throw std::runtime_error(name + ": data file: " + e.what());
    }
    data_name += " (data of " + name + ")";
    src = external.data();
    avail = external.size();
  } else {
    if (!ended) throw std::runtime_error(name + ": truncated header: no blank line ends it (attached data expected)");
    src = bytes.data() + pos;
    avail = bytes.size() - pos;
  }
  const std::string enc = lower(get("encoding"));
  const std::string endian = lower(get("endian"));
  const bool big = endian == "big";
  if (enc == "raw" && io::datatype_size(type) > 1 && endian != "little" && endian != "big")
    throw std::runtime_error(name + ": bad header: raw multi-byte data needs 'endian: little|big'");
  std::vector<double> skip;
  if (!get("byte skip", "byteskip").empty()) {
    if (!io::parse_doubles(get("byte skip", "byteskip"), skip) || skip.size() != 1)
      throw std::runtime_error(name + ": bad header: byte skip '" + printable(get("byte skip", "byteskip")) + "'");
    if (skip[0] == -1 && enc == "raw") {
      if (static_cast<int64_t>(avail) < nbytes)
        throw std::runtime_error(data_name + ": truncated data: header declares " + std::to_string(nbytes) +
                                 " bytes, found " + std::to_string(avail));
      src += avail - nbytes, avail = static_cast<size_t>(nbytes);
    } else if (skip[0] >= 0 && skip[0] <= static_cast<double>(avail)) {
      src += static_cast<size_t>(skip[0]), avail -= static_cast<size_t>(skip[0]);
    } else {
      throw std::runtime_error(name + ": bad header: byte skip " + io::format_double(skip[0]) + " beyond the data");
    }
  }

  if (enc != "raw" && enc != "gzip" && enc != "gz" && enc != "ascii" && enc != "text" && enc != "txt")
    throw std::runtime_error(name + ": unsupported encoding '" + printable(enc) + "' (raw, gzip and ascii supported)");
  // Every encoding's data size is bounded by the bytes present; check before allocating n floats.
  if (enc == "raw" && static_cast<int64_t>(avail) < nbytes)
    throw std::runtime_error(data_name + ": header/data size mismatch: header declares " + std::to_string(nbytes) +
                             " bytes (" + std::to_string(n) + " x " + type + "), truncated data: found " + std::to_string(avail));
  if ((enc == "ascii" || enc == "text" || enc == "txt") && n > static_cast<int64_t>(avail / 2 + 1))
    throw std::runtime_error(data_name + ": truncated data: " + std::to_string(avail) + " bytes cannot hold " +
                             std::to_string(n) + " ascii values");
  if ((enc == "gzip" || enc == "gz") && nbytes / 1032 > static_cast<int64_t>(avail) + 64)
    throw std::runtime_error(data_name + ": truncated compressed data: header declares " + std::to_string(nbytes) +
                             " bytes, " + std::to_string(avail) + " compressed bytes cannot hold them");
  std::vector<float> raw(static_cast<size_t>(n));
  if (enc == "raw") {
    if (static_cast<int64_t>(avail) != nbytes)
      throw std::runtime_error(data_name + ": header/data size mismatch: header declares " + std::to_string(nbytes) +
                               " bytes (" + std::to_string(n) + " x " + type + "), " +
                               (static_cast<int64_t>(avail) < nbytes ? "truncated data: " : "") + "found " +
                               std::to_string(avail));
    io::decode_samples(src, static_cast<size_t>(n), type, big, 1.0, 0.0, raw.data());
  } else if (enc == "gzip" || enc == "gz") {
    const std::vector<uint8_t> un = io::inflate_exact(src, avail, static_cast<size_t>(nbytes), data_name);
    io::decode_samples(un.data(), static_cast<size_t>(n), type, big, 1.0, 0.0, raw.data());
  } else if (enc == "ascii" || enc == "text" || enc == "txt") {
    size_t i = 0, k = 0;
    while (k < static_cast<size_t>(n)) {
      while (i < avail && std::isspace(src[i])) ++i;
      size_t j = i;
      while (j < avail && !std::isspace(src[j])) ++j;
      std::vector<double> one;
      if (i == j) throw std::runtime_error(data_name + ": truncated data: " + std::to_string(k) + " of " + std::to_string(n) + " ascii values");
      if (!io::parse_doubles(std::string(src + i, src + j), one) || one.size() != 1)
        throw std::runtime_error(data_name + ": bad ascii value '" + printable(std::string(src + i, src + j)) + "'");
      raw[k++] = static_cast<float>(one[0]);
      i = j;
    }
  } else {
    throw std::runtime_error(name + ": unsupported encoding '" + printable(enc) + "' (raw, gzip and ascii supported)");
  }
  if (channel_axis == 0 && v.channels > 1) {  // interleaved -> channel-major planes
    const size_t plane = static_cast<size_t>(v.voxels());
    v.data.resize(raw.size());
    for (size_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < v.channels; ++c) v.data[c * plane + p] = raw[p * v.channels + c];
  } else {
    v.data = std::move(raw);
  }
  return v;
}

Volume read_nrrd(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  return parse_nrrd(bytes, path, std::filesystem::path(path).parent_path().string());
}

void write_nrrd(const std::string& path, const Volume& vol, bool gzip) {
  const int64_t n = io::checked_elements(vol.dims, vol.channels, path);
  if (static_cast<int64_t>(vol.data.size()) != n)
    throw std::runtime_error(path + ": volume holds " + std::to_string(vol.data.size()) + " values, dims say " + std::to_string(n));
  std::string dt = nrrd_type_name(vol.datatype).empty() ? "float32" : vol.datatype;
  if (!io::representable(vol.data, dt)) dt = "float32";
  std::vector<uint8_t> payload = io::encode_samples(vol.data.data(), static_cast<size_t>(n), dt);
  if (gzip) {
    // A gzip (not zlib) stream, as teem writes; deflateInit2 with 16+15 window bits.
    z_stream zs{};
    if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error(path + ": zlib init failed");
    std::vector<uint8_t> z(deflateBound(&zs, payload.size()) + 64);
    zs.next_in = payload.data();
    zs.avail_in = static_cast<uInt>(payload.size());
    zs.next_out = z.data();
    zs.avail_out = static_cast<uInt>(z.size());
    const int rc = deflate(&zs, Z_FINISH);
    z.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw std::runtime_error(path + ": gzip compression failed");
    payload.swap(z);
  }
  const bool chan = vol.channels > 1;
  std::string h = "NRRD0004\n# written by segengine\ntype: " + nrrd_type_name(dt) + "\ndimension: " +
                  std::to_string(chan ? 4 : 3) + "\nspace: left-posterior-superior\nsizes:";
  for (int a = 0; a < 3; ++a) h.append(" ").append(std::to_string(vol.dims[a]));
  if (chan) h.append(" ").append(std::to_string(vol.channels));
  h += "\nspace directions:";
  for (int a = 0; a < 3; ++a)
    h += " (" + io::format_double(-vol.affine[0][a]) + "," + io::format_double(-vol.affine[1][a]) + "," +
         io::format_double(vol.affine[2][a]) + ")";
  if (chan) h += " none";
  h += std::string("\nkinds: domain domain domain") + (chan ? " list" : "") + "\nendian: little\nencoding: " +
       (gzip ? "gzip" : "raw") + "\nspace origin: (" + io::format_double(-vol.affine[0][3]) + "," +
       io::format_double(-vol.affine[1][3]) + "," + io::format_double(vol.affine[2][3]) + ")\n\n";
  std::vector<uint8_t> out(h.begin(), h.end());
  out.insert(out.end(), payload.begin(), payload.end());
  io::write_file_atomic(path, out, false);
}

}  // namespace seg
