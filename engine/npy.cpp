// NumPy .npy reader/writer (see npy.h). The header is a Python dict literal; a small parser reads exactly the
// subset NumPy writes ('descr' string, 'fortran_order' bool, 'shape' tuple of ints) and rejects everything else.
#include "engine/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "engine/serialize.h"

namespace seg {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// Parser of the header dict literal.
struct HeaderParser {
  const std::string& s;
  const std::string& name;
  size_t i = 0;

  [[noreturn]] void bad(const std::string& what) const {
    // At most 200 characters of the header: a hostile one can be megabytes of binary.
    fail("npy file '", name, "': malformed header (", what, " at offset ", i, "): ", s.substr(0, 200),
         s.size() > 200 ? "..." : "");
  }
  void ws() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) bad(std::string("expected '") + c + "'");
  }
  std::string str() {
    ws();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) bad("expected a string");
    const char q = s[i++];
    const size_t start = i;
    while (i < s.size() && s[i] != q) ++i;
    if (i >= s.size()) bad("unterminated string");
    return s.substr(start, i++ - start);
  }
  bool boolean() {
    ws();
    if (s.compare(i, 4, "True") == 0) {
      i += 4;
      return true;
    }
    if (s.compare(i, 5, "False") == 0) {
      i += 5;
      return false;
    }
    bad("expected True or False");
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    while (!eat(')')) {
      ws();
      const size_t start = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (i == start) bad("expected a non-negative integer in the shape");
      if (i - start > 18) bad("shape entry too large");
      shape.push_back(std::stoll(s.substr(start, i - start)));
      if (i < s.size() && s[i] == 'L') ++i;  // Python 2 long suffix
      if (!eat(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }
};

struct Header {
  std::string descr;
  bool fortran = false;
  Shape shape;
};

Header parse_header(const std::string& text, const std::string& name) {
  HeaderParser p{text, name};
  Header h;
  bool has_descr = false, has_fortran = false, has_shape = false;
  p.expect('{');
  while (!p.eat('}')) {
    const std::string key = p.str();
    p.expect(':');
    if (key == "descr") {
      p.ws();
      if (p.i < text.size() && text[p.i] == '[') p.bad("structured dtypes are not supported");
      h.descr = p.str();
      has_descr = true;
    } else if (key == "fortran_order") {
      h.fortran = p.boolean();
      has_fortran = true;
    } else if (key == "shape") {
      h.shape = p.tuple();
      has_shape = true;
    } else {
      p.bad("unknown key '" + key + "'");
    }
    if (!p.eat(',')) {
      p.expect('}');
      break;
    }
  }
  if (!has_descr || !has_fortran || !has_shape) p.bad("missing 'descr', 'fortran_order' or 'shape'");
  return h;
}

// Source element types a file may hold, and how they map to tensors.
enum class Src { F8, F4, I8, I4, U1, I1, B1 };

Src parse_descr(const std::string& d, const std::string& name) {
  SEG_CHECK(d.size() >= 2, "npy file '", name, "': bad dtype '", d, "'");
  const char order = d[0];
  const std::string kind = d.substr(1);
  const bool single = kind == "u1" || kind == "i1" || kind == "b1";
  SEG_CHECK(order != '>' || single, "npy file '", name, "': big-endian dtype '", d,
            "' is not supported (write little-endian, e.g. '<f8')");
  SEG_CHECK(order == '<' || order == '|' || order == '=', "npy file '", name, "': bad dtype '", d, "'");
  if (kind == "f8") return Src::F8;
  if (kind == "f4") return Src::F4;
  if (kind == "i8") return Src::I8;
  if (kind == "i4") return Src::I4;
  if (kind == "u1") return Src::U1;
  if (kind == "i1") return Src::I1;
  if (kind == "b1") return Src::B1;
  fail("npy file '", name, "': unsupported dtype '", d, "' (supported: <f8, <f4, <i8, and <i4, |u1, |i1, |b1 read as int64)");
}

size_t src_size(Src s) {
  switch (s) {
    case Src::F8: case Src::I8: return 8;
    case Src::F4: case Src::I4: return 4;
    default: return 1;
  }
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& name) {
  SEG_CHECK(bytes.size() >= 10, "npy file '", name, "': truncated (", bytes.size(), " bytes, no complete preamble)");
  SEG_CHECK(std::memcmp(bytes.data(), kMagic, 6) == 0, "npy file '", name, "': not a .npy file (bad magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, data_start = 0;
  auto u8 = [&](size_t k) { return static_cast<size_t>(static_cast<unsigned char>(bytes[k])); };
  if (major == 1) {
    header_len = u8(8) | (u8(9) << 8);
    data_start = 10 + header_len;
  } else if (major == 2 || major == 3) {
    SEG_CHECK(bytes.size() >= 12, "npy file '", name, "': truncated (no complete preamble)");
    header_len = u8(8) | (u8(9) << 8) | (u8(10) << 16) | (u8(11) << 24);
    data_start = 12 + header_len;
  } else {
    fail("npy file '", name, "': unsupported format version ", static_cast<int>(major), ".", static_cast<int>(u8(7)));
  }
  SEG_CHECK(data_start <= bytes.size(), "npy file '", name, "': truncated header (needs ", header_len,
            " bytes, file has ", bytes.size(), ")");
  const std::string text = bytes.substr(data_start - header_len, header_len);
  const Header h = parse_header(text, name);
  SEG_CHECK(!h.fortran, "npy file '", name, "': fortran_order True is not supported (save a C-order array, ",
            "e.g. np.ascontiguousarray)");
  const Src src = parse_descr(h.descr, name);
  SEG_CHECK(h.shape.size() <= 8, "npy file '", name, "': too many dimensions (", h.shape.size(), ")");
  const int64_t n = shape_numel(h.shape);
  // Compared by element count first, so a shape whose byte count overflows is refused before anything is allocated.
  SEG_CHECK(static_cast<uint64_t>(n) <= (bytes.size() - data_start) / src_size(src), "npy file '", name,
            "': truncated data (shape ", shape_str(h.shape), " ", h.descr, " needs ", n, " x ", src_size(src),
            " bytes, file has ", bytes.size() - data_start, ")");
  const size_t need = static_cast<size_t>(n) * src_size(src);
  SEG_CHECK(bytes.size() - data_start >= need, "npy file '", name, "': truncated data (shape ", shape_str(h.shape),
            " ", h.descr, " needs ", need, " bytes, file has ", bytes.size() - data_start, ")");
  SEG_CHECK(bytes.size() - data_start == need, "npy file '", name, "': ", bytes.size() - data_start - need,
            " unexpected bytes after the data (shape ", shape_str(h.shape), " ", h.descr, ")");
  const char* p = bytes.data() + data_start;
  switch (src) {
    case Src::F8: {
      Tensor t = Tensor::empty(h.shape, DType::Float64);
      if (need) std::memcpy(t.raw(), p, need);
      return t;
    }
    case Src::F4: {
      Tensor t = Tensor::empty(h.shape, DType::Float32);
      if (need) std::memcpy(t.raw(), p, need);
      return t;
    }
    default: {
      Tensor t = Tensor::empty(h.shape, DType::Int64);
      int64_t* out = t.data<int64_t>();
      for (int64_t k = 0; k < n; ++k) {
        switch (src) {
          case Src::I8: std::memcpy(&out[k], p + 8 * k, 8); break;
          case Src::I4: { int32_t v; std::memcpy(&v, p + 4 * k, 4); out[k] = v; break; }
          case Src::U1: out[k] = static_cast<unsigned char>(p[k]); break;
          case Src::I1: out[k] = static_cast<signed char>(p[k]); break;
          case Src::B1: out[k] = p[k] != 0; break;
          default: break;
        }
      }
      return t;
    }
  }
}

Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  SEG_CHECK(f.good(), "npy file '", path, "': cannot open (missing or unreadable)");
  std::ostringstream ss;
  ss << f.rdbuf();
  SEG_CHECK(!f.bad(), "npy file '", path, "': read error");
  return parse_npy(ss.str(), path);
}

std::string encode_npy(const Tensor& t_in) {
  check_defined(t_in, "save_npy", "tensor");
  const Tensor t = t_in.is_cuda() ? t_in.to(Device::CPU) : t_in;
  const char* descr = t.dtype() == DType::Float64 ? "<f8" : t.dtype() == DType::Float32 ? "<f4" : "<i8";
  std::string shape = "(";  // Python tuple syntax: (), (5,), (2, 3)
  for (size_t k = 0; k < t.shape().size(); ++k) shape += (k ? ", " : "") + std::to_string(t.shape()[k]);
  shape += t.dim() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that the data starts on a 64-byte boundary; the header ends with '\n'.
  size_t pre = 10;
  if ((header.size() + 1 + pre + 63) / 64 * 64 - pre > 65535) pre = 12;  // format 2.0: 4-byte header length
  const size_t total = (pre + header.size() + 1 + 63) / 64 * 64;
  header.append(total - pre - header.size() - 1, ' ');
  header.push_back('\n');
  std::string out(kMagic, 6);
  out.push_back(static_cast<char>(pre == 10 ? 1 : 2));
  out.push_back(0);
  const size_t hl = header.size();
  out.push_back(static_cast<char>(hl & 0xff));
  out.push_back(static_cast<char>((hl >> 8) & 0xff));
  if (pre == 12) {
    out.push_back(static_cast<char>((hl >> 16) & 0xff));
    out.push_back(static_cast<char>((hl >> 24) & 0xff));
  }
  out += header;
  out.append(static_cast<const char*>(t.raw()), static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
  return out;
}

void save_npy(const std::string& path, const Tensor& t) { write_file_atomic(path, encode_npy(t)); }

}  // namespace seg
