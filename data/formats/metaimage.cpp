// MetaImage reader/writer (see metaimage.h). Header keys follow ITK's MetaIO (metaImage.cxx / metaObject.cxx).
// Key decision: the header is scanned line by line only up to ElementDataFile (which MetaIO requires to be last),
// so binary data after it is never parsed as text; sizes are checked before any allocation.
#include "data/formats/metaimage.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "data/formats/image_io.h"

namespace seg {

namespace {

std::string met_type(const std::string& t) {
  static const std::map<std::string, std::string> m = {
      {"MET_UCHAR", "uint8"},   {"MET_CHAR", "int8"},         {"MET_USHORT", "uint16"}, {"MET_SHORT", "int16"},
      {"MET_UINT", "uint32"},   {"MET_INT", "int32"},         {"MET_ULONG", "uint32"},  {"MET_LONG", "int32"},
      {"MET_ULONG_LONG", "uint64"}, {"MET_LONG_LONG", "int64"}, {"MET_FLOAT", "float32"}, {"MET_DOUBLE", "float64"}};
  std::string base = t;
  if (base.size() > 6 && base.compare(base.size() - 6, 6, "_ARRAY") == 0) base.resize(base.size() - 6);
  const auto it = m.find(base);
  return it == m.end() ? "" : it->second;
}

std::string met_name(const std::string& dt) {
  static const std::map<std::string, std::string> m = {
      {"uint8", "MET_UCHAR"},   {"int8", "MET_CHAR"},   {"uint16", "MET_USHORT"},      {"int16", "MET_SHORT"},
      {"uint32", "MET_UINT"},   {"int32", "MET_INT"},   {"uint64", "MET_ULONG_LONG"}, {"int64", "MET_LONG_LONG"},
      {"float32", "MET_FLOAT"}, {"float64", "MET_DOUBLE"}};
  const auto it = m.find(dt);
  return it == m.end() ? "" : it->second;
}

bool is_true(const std::string& v) {
  std::string l = v;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  return l == "true" || l == "1" || l == "yes";
}

std::vector<double> numbers(const std::map<std::string, std::string>& kv, const std::string& key, size_t want,
                            const std::string& name) {
  const auto it = kv.find(key);
  if (it == kv.end()) return {};
  std::vector<double> v;
  if (!io::parse_doubles(it->second, v) || v.size() < want)
    throw std::runtime_error(name + ": bad header: " + key + " = '" + it->second + "' (expected " + std::to_string(want) +
                             " numbers)");
  return v;
}

}  // namespace

Volume parse_metaimage(const std::vector<uint8_t>& bytes, const std::string& name, const std::string& dir) {
  std::map<std::string, std::string> kv;
  size_t pos = 0, data_start = 0;
  bool found_data = false;
  const size_t header_cap = std::min<size_t>(bytes.size(), 1 << 20);
  while (pos < header_cap) {
    size_t eol = pos;
    while (eol < header_cap && bytes[eol] != '\n') ++eol;
    const std::string line(bytes.begin() + pos, bytes.begin() + eol);
    pos = eol + 1;
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      if (io::trim(line).empty()) continue;
      throw std::runtime_error(name + ": bad magic: not a MetaImage header (line '" + line.substr(0, 40) +
                               "' is not Key = Value)");
    }
    const std::string key = io::trim(line.substr(0, eq)), value = io::trim(line.substr(eq + 1));
    const bool ident = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!ident)
      throw std::runtime_error(name + ": bad magic: not a MetaImage header (line '" + line.substr(0, 40) +
                               "' is not Key = Value)");
    kv[key] = value;
    if (key == "ElementDataFile") {
      found_data = true;
      data_start = std::min(pos, bytes.size());
      break;
    }
  }
  if (kv.empty()) throw std::runtime_error(name + ": bad magic: not a MetaImage header");
  if (!found_data) throw std::runtime_error(name + ": bad header: no ElementDataFile line (it must end the header)");

  const auto need = [&](const char* key) -> const std::string& {
    const auto it = kv.find(key);
    if (it == kv.end()) throw std::runtime_error(name + ": bad header: missing " + key);
    return it->second;
  };
  std::vector<double> nd;
  if (!io::parse_doubles(need("NDims"), nd) || nd.size() != 1 || nd[0] < 1 || nd[0] > 3 || nd[0] != std::floor(nd[0]))
    throw std::runtime_error(name + ": unsupported NDims '" + kv["NDims"] + "' (1, 2 or 3 supported)");
  const int ndims = static_cast<int>(nd[0]);
  const std::vector<double> size = numbers(kv, "DimSize", ndims, name);
  if (size.empty()) throw std::runtime_error(name + ": bad header: missing DimSize");
  const std::string dt = met_type(need("ElementType"));
  if (dt.empty()) throw std::runtime_error(name + ": unsupported ElementType '" + kv["ElementType"] + "'");

  Volume v;
  v.datatype = dt;
  for (int i = 0; i < 3; ++i) {
    const double s = i < ndims ? size[i] : 1.0;
    if (!(s >= 1 && s <= 1e12) || s != std::floor(s))
      throw std::runtime_error(name + ": bad header: DimSize[" + std::to_string(i) + "] = " + io::format_double(s));
    v.dims[i] = static_cast<int64_t>(s);
  }
  if (kv.count("ElementNumberOfChannels")) {
    std::vector<double> c;
    if (!io::parse_doubles(kv["ElementNumberOfChannels"], c) || c.size() != 1 || !(c[0] >= 1 && c[0] <= 4096))
      throw std::runtime_error(name + ": bad header: ElementNumberOfChannels = '" + kv["ElementNumberOfChannels"] + "'");
    v.channels = static_cast<int64_t>(c[0]);
  }
  const int64_t n = io::checked_elements(v.dims, v.channels, name);
  const int64_t nbytes = io::checked_mul(n, static_cast<int64_t>(io::datatype_size(dt)), name, "data size");

  // Geometry (LPS): spacing, direction per axis, offset.
  std::vector<double> sp = numbers(kv, "ElementSpacing", ndims, name);
  if (sp.empty()) sp = numbers(kv, "ElementSize", ndims, name);
  // A spacing of 0 places every voxel at one point: an error. A negative one is what ITK's physical-point rule
  // (origin + direction * spacing * index) then walks backwards along: the affine keeps the sign, Volume::spacing
  // the magnitude, with a warning. (NaN and inf are refused by the number parser.)
  double sign[3] = {1, 1, 1};
  for (int i = 0; i < 3; ++i) {
    const double raw = i < static_cast<int>(sp.size()) && i < ndims ? sp[i] : 1.0;
    if (raw == 0.0)
      throw std::runtime_error(name + ": bad header: ElementSpacing along axis " + std::to_string(i) + " is 0 (must be > 0)");
    if (raw < 0) {
      sign[i] = -1;
      io::warn(name + ": ElementSpacing along axis " + std::to_string(i) + " is " + io::format_double(raw) +
               " (negative): read as " + io::format_double(-raw) + " mm with that axis running backwards, as ITK places it");
    }
    v.spacing[i] = std::abs(raw);
  }
  std::vector<double> origin;
  for (const char* key : {"Offset", "Origin", "Position"})
    if (origin.empty()) origin = numbers(kv, key, ndims, name);
  std::vector<double> tm;
  for (const char* key : {"TransformMatrix", "Rotation", "Orientation"})
    if (tm.empty()) tm = numbers(kv, key, static_cast<size_t>(ndims * ndims), name);
  double dir3[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};  // dir3[axis][component]
  if (!tm.empty())
    for (int a = 0; a < ndims; ++a)
      for (int c = 0; c < ndims; ++c) dir3[a][c] = tm[a * ndims + c];
  const double det = dir3[0][0] * (dir3[1][1] * dir3[2][2] - dir3[1][2] * dir3[2][1]) -
                     dir3[0][1] * (dir3[1][0] * dir3[2][2] - dir3[1][2] * dir3[2][0]) +
                     dir3[0][2] * (dir3[1][0] * dir3[2][1] - dir3[1][1] * dir3[2][0]);
  if (!(std::abs(det) > 1e-12))
    throw std::runtime_error(name + ": bad header: TransformMatrix '" + kv["TransformMatrix"] + kv["Rotation"] +
                             kv["Orientation"] + "' is singular (its axes must be independent directions)");
  for (int r = 0; r < 3; ++r) {
    const double flip = r < 2 ? -1.0 : 1.0;  // LPS -> RAS
    for (int a = 0; a < 3; ++a) v.affine[r][a] = flip * dir3[a][r] * sign[a] * v.spacing[a];
    v.affine[r][3] = flip * (r < static_cast<int>(origin.size()) && r < ndims ? origin[r] : 0.0);
  }

  for (auto& row : v.affine)
    for (double& x : row) x += 0.0;  // -0 from the LPS flip prints as "-0"
  const bool msb = (kv.count("BinaryDataByteOrderMSB") && is_true(kv["BinaryDataByteOrderMSB"])) ||
                   (kv.count("ElementByteOrderMSB") && is_true(kv["ElementByteOrderMSB"]));
  const bool compressed = kv.count("CompressedData") && is_true(kv["CompressedData"]);
  if (kv.count("BinaryData") && !is_true(kv["BinaryData"]))
    throw std::runtime_error(name + ": ASCII MetaImage data (BinaryData = False) is not supported");

  // Locate the data bytes: after the header (LOCAL) or in a separate file.
  std::vector<uint8_t> external;
  const uint8_t* src;
  size_t avail;
  const std::string& file = kv["ElementDataFile"];
  std::string data_name = name;
  if (file == "LOCAL" || file == "Local" || file == "local") {
    src = bytes.data() + data_start;
    avail = bytes.size() - data_start;
  } else {
    if (file == "LIST" || file.find('%') != std::string::npos || file.find(' ') != std::string::npos)
      throw std::runtime_error(name + ": ElementDataFile '" + file + "' (a file list or pattern) is not supported");
    data_name = (std::filesystem::path(dir) / file).string();
    try {
      external = io::read_file(data_name);
    } catch (const std::exception& e) {
      throw std::runtime_error(name + ": ElementDataFile: " + e.what());
    }
    data_name += " (data of " + name + ")";
    src = external.data();
    avail = external.size();
    if (!compressed && kv.count("HeaderSize")) {
      std::vector<double> hs;
      if (!io::parse_doubles(kv["HeaderSize"], hs) || hs.size() != 1)
        throw std::runtime_error(name + ": bad header: HeaderSize = '" + kv["HeaderSize"] + "'");
      if (hs[0] == -1) {  // MetaIO: data at the end of the file
        if (static_cast<int64_t>(avail) < nbytes)
          throw std::runtime_error(data_name + ": header/data size mismatch: " + name + " declares " +
                                   std::to_string(nbytes) + " bytes, file holds " + std::to_string(avail));
        src += avail - nbytes;
        avail = static_cast<size_t>(nbytes);
      } else if (hs[0] >= 0 && hs[0] <= static_cast<double>(avail)) {
        src += static_cast<size_t>(hs[0]);
        avail -= static_cast<size_t>(hs[0]);
      } else {
        throw std::runtime_error(name + ": bad header: HeaderSize " + kv["HeaderSize"] + " beyond the data file");
      }
    }
  }

  std::vector<uint8_t> inflated;
  if (compressed) {
    inflated = io::inflate_exact(src, avail, static_cast<size_t>(nbytes), data_name);
    src = inflated.data();
    avail = inflated.size();
  } else if (static_cast<int64_t>(avail) != nbytes) {
    throw std::runtime_error(data_name + ": header/data size mismatch: header declares " + std::to_string(nbytes) +
                             " bytes (" + std::to_string(n) + " x " + dt + "), " +
                             (static_cast<int64_t>(avail) < nbytes ? "truncated data: " : "") + "found " +
                             std::to_string(avail));
  }
  // MetaImage interleaves channels; Volume keeps channel-major planes.
  std::vector<float> raw(static_cast<size_t>(n));
  io::decode_samples(src, static_cast<size_t>(n), dt, msb, 1.0, 0.0, raw.data());
  if (v.channels == 1) {
    v.data = std::move(raw);
  } else {
    const size_t plane = static_cast<size_t>(v.voxels());
    v.data.resize(raw.size());
    for (size_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < v.channels; ++c) v.data[c * plane + p] = raw[p * v.channels + c];
  }
  return v;
}

Volume read_metaimage(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  return parse_metaimage(bytes, path, std::filesystem::path(path).parent_path().string());
}

void write_metaimage(const std::string& path, const Volume& vol, bool compress) {
  const std::string ext = io::extension(path);
  if (ext != "mha" && ext != "mhd") throw std::runtime_error(path + ": a MetaImage file name must end in .mha or .mhd");
  const int64_t n = io::checked_elements(vol.dims, vol.channels, path);
  if (static_cast<int64_t>(vol.data.size()) != n)
    throw std::runtime_error(path + ": volume holds " + std::to_string(vol.data.size()) + " values, dims say " + std::to_string(n));
  std::string dt = met_name(vol.datatype).empty() ? "float32" : vol.datatype;
  if (!io::representable(vol.data, dt)) dt = "float32";

  std::vector<float> inter;
  const float* src = vol.data.data();
  if (vol.channels > 1) {
    const size_t plane = static_cast<size_t>(vol.voxels());
    inter.resize(vol.data.size());
    for (size_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < vol.channels; ++c) inter[p * vol.channels + c] = vol.data[c * plane + p];
    src = inter.data();
  }
  std::vector<uint8_t> payload = io::encode_samples(src, static_cast<size_t>(n), dt);
  if (compress) {
    uLongf len = compressBound(payload.size());
    std::vector<uint8_t> z(len);
    if (compress2(z.data(), &len, payload.data(), payload.size(), 6) != Z_OK)
      throw std::runtime_error(path + ": zlib compression failed");
    z.resize(len);
    payload.swap(z);
  }

  std::string h = "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n";
  h += std::string("CompressedData = ") + (compress ? "True" : "False") + "\n";
  if (compress) h += "CompressedDataSize = " + std::to_string(payload.size()) + "\n";
  // Back to LPS: direction of axis a = column a of the RAS affine with x, y negated, divided by its length.
  std::string tm = "TransformMatrix =", off = "Offset =", sp = "ElementSpacing =", ds = "DimSize =";
  for (int a = 0; a < 3; ++a) {
    double col[3], len = 0;
    for (int r = 0; r < 3; ++r) col[r] = (r < 2 ? -1 : 1) * vol.affine[r][a], len += col[r] * col[r];
    len = std::sqrt(len);
    for (int r = 0; r < 3; ++r) tm.append(" ").append(io::format_double(len > 0 ? col[r] / len : (r == a ? 1.0 : 0.0)));
    off.append(" ").append(io::format_double((a < 2 ? -1 : 1) * vol.affine[a][3]));
    sp.append(" ").append(io::format_double(vol.spacing[a]));
    ds.append(" ").append(std::to_string(vol.dims[a]));
  }
  h += tm + "\n" + off + "\nCenterOfRotation = 0 0 0\nAnatomicalOrientation = RAI\n" + sp + "\n" + ds + "\n";
  if (vol.channels > 1) h += "ElementNumberOfChannels = " + std::to_string(vol.channels) + "\n";
  h += "ElementType = " + met_name(dt) + "\n";
  if (ext == "mha") {
    h += "ElementDataFile = LOCAL\n";
    std::vector<uint8_t> out(h.begin(), h.end());
    out.insert(out.end(), payload.begin(), payload.end());
    io::write_file_atomic(path, out, false);
  } else {
    const std::filesystem::path p(path);
    const std::string raw = p.stem().string() + (compress ? ".zraw" : ".raw");
    h += "ElementDataFile = " + raw + "\n";
    io::write_file_atomic((p.parent_path() / raw).string(), payload, false);
    io::write_file_atomic(path, std::vector<uint8_t>(h.begin(), h.end()), false);
  }
}

}  // namespace seg
