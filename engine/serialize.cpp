// safetensors reader/writer and checkpoints (see serialize.h).
// Key decision: the reader trusts nothing in the header: JSON types, shapes and offsets are checked, and the bytes a
// shape needs are compared with the file before any tensor is allocated (tools/fuzz/fuzz_safetensors.cpp fuzzes it).
#include "engine/serialize.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

namespace seg {

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    SEG_CHECK(f.good(), "cannot write '", tmp, "'");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    SEG_CHECK(f.good(), "write to '", tmp, "' failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  SEG_CHECK(!ec, "cannot rename '", tmp, "' to '", path, "': ", ec.message());
}

namespace {
const char* st_dtype(DType d) { return d == DType::Float32 ? "F32" : d == DType::Float64 ? "F64" : "I64"; }
DType parse_dtype(const std::string& s, const std::string& path, const std::string& name) {
  if (s == "F32") return DType::Float32;
  if (s == "F64") return DType::Float64;
  if (s == "I64") return DType::Int64;
  fail(path, ": tensor '", name, "' has dtype ", s, "; supported: F32, F64, I64");
}
}  // namespace

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  std::vector<Tensor> host;
  for (const auto& [name, t] : tensors) {
    SEG_CHECK(t.defined(), "save_safetensors: tensor '", name, "' is undefined");
    Tensor h = t.to(Device::CPU);
    const size_t bytes = static_cast<size_t>(h.numel()) * dtype_size(h.dtype());
    header[name] = {{"dtype", st_dtype(h.dtype())}, {"shape", h.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    host.push_back(h);
  }
  std::string hs = header.dump();
  while ((hs.size() + 8) % 8) hs.push_back(' ');
  std::string out(8, '\0');
  uint64_t n = hs.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += hs;
  out.reserve(out.size() + offset);
  for (const Tensor& h : host) out.append(static_cast<const char*>(h.raw()), static_cast<size_t>(h.numel()) * dtype_size(h.dtype()));
  write_file_atomic(path, out);
}

SafeTensors load_safetensors(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  SEG_CHECK(f.good(), "cannot open checkpoint '", path, "'");
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  SEG_CHECK(!f.bad(), path, ": read error");
  return parse_safetensors(data, path);
}

SafeTensors parse_safetensors(const std::string& data, const std::string& path) {
  SEG_CHECK(data.size() >= 8, path, ": not a safetensors file (", data.size(), " bytes, shorter than its 8-byte header length)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(data[static_cast<size_t>(i)])) << (8 * i);
  SEG_CHECK(n <= data.size() - 8, path, ": header length ", n, " exceeds the file size ", data.size(), " (truncated?)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(data.begin() + 8, data.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const std::exception& e) {
    fail(path, ": the safetensors header is not valid JSON: ", e.what());
  }
  SEG_CHECK(header.is_object(), path, ": the safetensors header is not a JSON object");
  SafeTensors st;
  const size_t base = 8 + n, avail = data.size() - base;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      SEG_CHECK(it->is_object(), path, ": __metadata__ is not a JSON object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        SEG_CHECK(m->is_primitive(), path, ": __metadata__ value of '", m.key(), "' is a JSON ", m->type_name(),
                  " (safetensors metadata maps strings to strings)");
        st.metadata[m.key()] = m->is_string() ? m->get<std::string>() : m->dump();
      }
      continue;
    }
    // Every field is checked for its JSON type before it is read: nlohmann's get<> would throw its own exception
    // (or, from a float, cast out of range) instead of an error naming the file and the entry.
    const auto& e = *it;
    SEG_CHECK(e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"), path,
              ": entry '", it.key(), "' lacks dtype, shape or data_offsets");
    SEG_CHECK(e["dtype"].is_string(), path, ": entry '", it.key(), "' has a dtype that is not a string (a JSON ", e["dtype"].type_name(), ")");
    const DType dt = parse_dtype(e["dtype"].get<std::string>(), path, it.key());
    const auto& js = e["shape"];
    SEG_CHECK(js.is_array() && js.size() <= 8, path, ": entry '", it.key(), "' has a shape that is not an array of at most 8 sizes (a JSON ",
              js.type_name(), ", ", js.is_array() ? js.size() : 1, " element(s))");
    Shape shape;
    for (const auto& d : js) {
      if (!d.is_number_unsigned()) {
        std::string what = d.type_name();
        if (d.is_primitive()) what.append(" ").append(d.dump());  // (not " " + dump(): GCC 12 -Wrestrict false alarm)
        fail(path, ": entry '", it.key(), "' has a shape entry that is not a non-negative integer (a JSON ", what, ")");
      }
      SEG_CHECK(d.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), path, ": entry '",
                it.key(), "' has a shape entry too large: ", d.dump());
      shape.push_back(d.get<int64_t>());
    }
    const auto& jo = e["data_offsets"];
    SEG_CHECK(jo.is_array() && jo.size() == 2 && jo[0].is_number_unsigned() && jo[1].is_number_unsigned(), path,
              ": entry '", it.key(), "' has data_offsets that are not two non-negative integers");
    const uint64_t o0 = jo[0].get<uint64_t>(), o1 = jo[1].get<uint64_t>();
    SEG_CHECK(o0 <= o1 && o1 <= avail, path, ": entry '", it.key(), "' has data offsets [", o0, ", ", o1,
              "] outside the ", avail, " data bytes of the file (truncated?)");
    // The size the shape needs, checked against the file before anything is allocated.
    int64_t numel = 1;
    for (int64_t d : shape)
      SEG_CHECK(!__builtin_mul_overflow(numel, d, &numel), path, ": entry '", it.key(), "' has a shape ",
                shape_str(shape), " whose element count overflows");
    uint64_t bytes = 0;
    SEG_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(numel), static_cast<uint64_t>(dtype_size(dt)), &bytes) &&
                  o1 - o0 == bytes,
              path, ": entry '", it.key(), "' has ", o1 - o0, " bytes, its shape ", shape_str(shape), " of ",
              dtype_name(dt), " needs ", numel, " x ", dtype_size(dt));
    Tensor t = Tensor::empty(shape, dt);
    if (bytes) std::memcpy(t.raw(), data.data() + base + o0, bytes);
    st.tensors[it.key()] = t;
  }
  return st;
}

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* opt,
                     const std::map<std::string, std::string>& metadata) {
  std::map<std::string, Tensor> all;
  for (auto& [n, t] : model.named_parameters()) all["model." + n] = t;
  for (auto& [n, t] : model.named_buffers()) all["model." + n] = t;
  if (opt)
    for (auto& [n, t] : opt->state()) all["optim." + n] = t;
  save_safetensors(path, all, metadata);
}

std::map<std::string, std::string> load_checkpoint(const std::string& path, Module& model, Optimizer* opt) {
  SafeTensors st = load_safetensors(path);
  auto load_into = [&](const std::string& name, Tensor t) {
    auto it = st.tensors.find("model." + name);
    SEG_CHECK(it != st.tensors.end(), path, ": checkpoint has no tensor 'model.", name, "' (a different model?)");
    SEG_CHECK(it->second.shape() == t.shape(), path, ": 'model.", name, "' has shape ", shape_str(it->second.shape()),
              ", the model expects ", shape_str(t.shape()));
    t.copy_from_(it->second);
  };
  for (auto& [n, t] : model.named_parameters()) load_into(n, t);
  for (auto& [n, t] : model.named_buffers()) load_into(n, t);
  if (opt) {
    std::map<std::string, Tensor> os;
    for (auto& [k, t] : st.tensors)
      if (k.rfind("optim.", 0) == 0) os[k.substr(6)] = t;
    opt->load_state(os);
  }
  return st.metadata;
}

}  // namespace seg
