// Unit tests of the .npy reader/writer (round trips, NumPy's header variants, corrupt files) and of opcheck's manifest
// reader and case runner (malformed folders are clear errors; PASS / FAIL / UNSUPPORTED and the exit code).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/npy.h"
#include "tools/opcheck/opcheck.h"
#include "kernels/elementwise.h"

using namespace seg;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("seg_npy_opcheck_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

// A .npy file as NumPy writes it, with a hand-written header (format 1.0 or 2.0).
std::string npy_bytes(const std::string& header, const std::string& data, int major = 1) {
  std::string h = header;
  const size_t pre = major == 1 ? 10 : 12;
  while ((pre + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>((h.size() >> 8) & 0xff);
  if (major == 2) out += std::string(2, '\0');
  return out + h + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Npy, RoundTripEveryDtypeAndShape) {
  const fs::path dir = temp_dir("rt");
  const std::vector<Shape> shapes = {{}, {5}, {0}, {2, 3}, {1, 2, 3, 1, 4}};
  for (DType dt : {DType::Float64, DType::Float32, DType::Int64}) {
    for (const Shape& s : shapes) {
      const int64_t n = shape_numel(s);
      std::vector<double> v(static_cast<size_t>(n));
      for (int64_t k = 0; k < n; ++k) v[k] = dt == DType::Int64 ? k * 7 - 11 : 0.1 * k - 1.0 / 3;
      Tensor t = dt == DType::Int64 ? Tensor::from_labels(std::vector<int64_t>(v.begin(), v.end()), s)
                                    : Tensor::from_vector(v, s, dt);
      const std::string path = (dir / "a.npy").string();
      save_npy(path, t);
      EXPECT_FALSE(fs::exists(path + ".tmp"));
      EXPECT_EQ(fs::file_size(path) % 64, static_cast<uintmax_t>(n) * dtype_size(dt) % 64) << "data 64-byte aligned";
      Tensor r = load_npy(path);
      EXPECT_EQ(r.dtype(), dt);
      EXPECT_EQ(r.shape(), s) << shape_str(s);
      EXPECT_EQ(r.to_vector(), t.to_vector());
    }
  }
  fs::remove_all(dir);
}

TEST(Npy, HeaderVariantsAsNumPyWritesThem) {
  // 0-d, 1-d with trailing comma, no trailing ", }", double quotes, format 2.0.
  Tensor a = parse_npy(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", raw<double>({2.5})), "a");
  EXPECT_EQ(a.dim(), 0);
  EXPECT_EQ(a.item(), 2.5);
  Tensor b = parse_npy(npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,)}", raw<int64_t>({1, -2, 3})), "b");
  EXPECT_EQ(b.shape(), Shape({3}));
  EXPECT_EQ(b.to_labels(), (std::vector<int64_t>{1, -2, 3}));
  Tensor c = parse_npy(npy_bytes("{\"shape\":(1,2),\"fortran_order\":False,\"descr\":\"<f4\"}", raw<float>({1.5f, -2.f}), 2), "c");
  EXPECT_EQ(c.dtype(), DType::Float32);
  EXPECT_EQ(c.shape(), Shape({1, 2}));
  EXPECT_EQ(c.to_vector(), (std::vector<double>{1.5, -2.0}));
}

TEST(Npy, SmallIntegerTypesAreReadAsInt64) {
  Tensor u = parse_npy(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", std::string("\x00\x01\xff", 3)), "u");
  EXPECT_EQ(u.dtype(), DType::Int64);
  EXPECT_EQ(u.to_labels(), (std::vector<int64_t>{0, 1, 255}));
  Tensor i = parse_npy(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", raw<int32_t>({-7, 40000})), "i");
  EXPECT_EQ(i.to_labels(), (std::vector<int64_t>{-7, 40000}));
  Tensor b = parse_npy(npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", std::string("\x01\x00", 2)), "b");
  EXPECT_EQ(b.to_labels(), (std::vector<int64_t>{1, 0}));
}

TEST(Npy, CorruptFilesGiveErrorsNamingFileAndProblem) {
  const std::string good = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", raw<double>({1, 2, 3, 4}));
  auto err = [](const std::string& bytes) { return error_of([&] { parse_npy(bytes, "x.npy"); }); };
  EXPECT_NE(err(good.substr(0, good.size() - 3)).find("truncated data"), std::string::npos);
  EXPECT_NE(err(good.substr(0, 40)).find("truncated header"), std::string::npos);
  EXPECT_NE(err(good.substr(0, 5)).find("truncated"), std::string::npos);
  EXPECT_NE(err(good + "xx").find("unexpected bytes"), std::string::npos);
  EXPECT_NE(err("GARBAGE!!!!!!!!!!").find("bad magic"), std::string::npos);
  EXPECT_NE(err(npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }", raw<double>({1}))).find("fortran_order"),
            std::string::npos);
  EXPECT_NE(err(npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", raw<double>({1}))).find("big-endian"),
            std::string::npos);
  EXPECT_NE(err(npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", std::string(16, 0))).find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(err(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", "")).find("malformed header"),
            std::string::npos);
  EXPECT_NE(err(npy_bytes("{'descr': '<f8', 'shape': (1,), }", raw<double>({1}))).find("missing"), std::string::npos);
  EXPECT_NE(err(good).find("(no error)"), std::string::npos);
  EXPECT_NE(err(good.substr(0, good.size() - 3)).find("x.npy"), std::string::npos);
  const std::string missing = error_of([] { load_npy("/nonexistent/dir/y.npy"); });
  EXPECT_NE(missing.find("/nonexistent/dir/y.npy"), std::string::npos);
  EXPECT_NE(missing.find("cannot open"), std::string::npos);
}

// ---------------------------------------------------------------- opcheck
namespace {

// A folder with one relu case (float64), its reference made by hand.
fs::path relu_folder(const std::string& tag, bool wrong_output = false, const std::string& op = "relu") {
  const fs::path dir = temp_dir(tag);
  Tensor x = Tensor::from_vector({-1.5, 0.25, 2.0, -0.1, 3.0, 0.5}, {2, 3}, DType::Float64);
  Tensor go = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::Float64);
  std::vector<double> y = {0, 0.25, 2.0, 0, 3.0, 0.5}, gx = {0, 2, 3, 0, 5, 6};
  if (wrong_output) y[2] += 1e-3;
  save_npy((dir / "r.input.npy").string(), x);
  save_npy((dir / "r.grad_output.npy").string(), go);
  save_npy((dir / "r.output.npy").string(), Tensor::from_vector(y, {2, 3}, DType::Float64));
  save_npy((dir / "r.grad.input.npy").string(), Tensor::from_vector(gx, {2, 3}, DType::Float64));
  std::ofstream(dir / "manifest.json")
      << R"({"format": 1, "cases": [{"name": "r1", "op": ")" << op
      << R"(", "attrs": {}, "inputs": {"input": "r.input.npy"}, "grad_output": "r.grad_output.npy",
             "outputs": {"output": "r.output.npy"}, "grads": {"input": "r.grad.input.npy"}, "rtol": 1e-9, "atol": 1e-12}]})";
  return dir;
}

int run_cli(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::vector<std::string> a = {"opcheck"};
  a.insert(a.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  std::ostringstream o, e;
  const int rc = opcheck::main_opcheck(static_cast<int>(argv.size()), argv.data(), o, e);
  out = o.str();
  err = e.str();
  return rc;
}

}  // namespace

TEST(Opcheck, PassFailUnsupportedAndExitCode) {
  std::string out, err;
  const fs::path ok = relu_folder("ok");
  EXPECT_EQ(run_cli({ok.string()}, out, err), 0) << out << err;
  EXPECT_NE(out.find("r1"), std::string::npos);
  EXPECT_NE(out.find("PASS"), std::string::npos);
  EXPECT_TRUE(out.size() >= 19 && out.substr(out.size() - 19) == "1 passed, 0 failed\n") << out;

  const fs::path bad = relu_folder("bad", true);
  EXPECT_EQ(run_cli({bad.string()}, out, err), 1) << out << err;
  EXPECT_NE(out.find("FAIL"), std::string::npos);
  EXPECT_NE(out.find("output[2]"), std::string::npos) << out;
  EXPECT_NE(out.find("0 passed, 1 failed"), std::string::npos);

  const fs::path uns = relu_folder("uns", false, "no_such_op");
  EXPECT_EQ(run_cli({uns.string()}, out, err), 1) << out;
  EXPECT_NE(out.find("UNSUPPORTED"), std::string::npos);
  EXPECT_NE(out.find("0 passed, 1 failed"), std::string::npos);
  EXPECT_EQ(run_cli({uns.string(), "--skip-unsupported"}, out, err), 0) << out;
  EXPECT_NE(out.find("0 passed, 0 failed"), std::string::npos);

  EXPECT_EQ(run_cli({ok.string(), "--filter", "zzz"}, out, err), 0);
  EXPECT_NE(out.find("0 passed, 0 failed"), std::string::npos);
  for (const auto& d : {ok, bad, uns}) fs::remove_all(d);
}

TEST(Opcheck, MalformedFoldersAreClearErrors) {
  std::string out, err;
  EXPECT_EQ(run_cli({"/nonexistent/folder"}, out, err), 2);
  EXPECT_NE(err.find("is not a folder"), std::string::npos) << err;
  EXPECT_EQ(run_cli({}, out, err), 2);
  EXPECT_NE(err.find("usage"), std::string::npos);
  EXPECT_EQ(run_cli({"x", "--device", "tpu"}, out, err), 2);

  const fs::path dir = relu_folder("mal");
  auto manifest_error = [&](const std::string& text) {
    std::ofstream(dir / "manifest.json") << text;
    return error_of([&] { opcheck::load_manifest(dir.string()); });
  };
  EXPECT_NE(manifest_error("{\"format\": 1, \"cases\": [").find("not valid JSON"), std::string::npos);
  EXPECT_NE(manifest_error("[]").find("top level"), std::string::npos);
  EXPECT_NE(manifest_error("{\"format\": 2, \"cases\": []}").find("\"format\" must be 1"), std::string::npos);
  EXPECT_NE(manifest_error("{\"format\": 1, \"cases\": {}}").find("\"cases\" must be an array"), std::string::npos);
  EXPECT_NE(manifest_error(R"({"format": 1, "cases": [{"op": "relu"}]})").find("missing \"name\""), std::string::npos);
  const std::string missing_file = manifest_error(
      R"({"format": 1, "cases": [{"name": "a", "op": "relu", "inputs": {"input": "nope.npy"}, "outputs": {"output": "r.output.npy"}}]})");
  EXPECT_NE(missing_file.find("'nope.npy' does not exist"), std::string::npos) << missing_file;
  EXPECT_NE(missing_file.find("case #0 ('a')"), std::string::npos) << missing_file;
  EXPECT_NE(manifest_error(R"({"format": 1, "cases": [{"name": "a", "op": "relu", "inputs": {"input": "r.input.npy"},
      "outputs": {"output": "r.output.npy"}, "grads": {"input": "r.grad.input.npy"}}]})").find("without \"grad_output\""),
            std::string::npos);
  EXPECT_NE(manifest_error(R"({"format": 1, "cases": [{"name": "a", "op": "relu", "inputs": {"input": "../r.input.npy"},
      "outputs": {"output": "r.output.npy"}}]})").find("plain relative name"),
            std::string::npos);
  // Through the command line: exit 2 with the message, no crash.
  manifest_error("{\"format\": 1, \"cases\": [");
  EXPECT_EQ(run_cli({dir.string()}, out, err), 2);
  EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;
  fs::remove(dir / "manifest.json");
  EXPECT_EQ(run_cli({dir.string()}, out, err), 2);
  EXPECT_NE(err.find("no manifest.json"), std::string::npos) << err;
  fs::remove_all(dir);
}

TEST(Opcheck, CorruptCaseFileFailsThatCaseOnly) {
  const fs::path dir = relu_folder("corrupt");
  write_bytes(dir / "r.output.npy", std::string("\x93NUMPY\x01\x00\xff\x00{", 11));
  std::string out, err;
  EXPECT_EQ(run_cli({dir.string()}, out, err), 1) << err;
  EXPECT_NE(out.find("FAIL"), std::string::npos);
  EXPECT_NE(out.find("r.output.npy"), std::string::npos) << out;
  EXPECT_NE(out.find("truncated header"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(Opcheck, Float32InputsRunInFloat32) {
  const fs::path dir = relu_folder("f32");
  save_npy((dir / "r.input.npy").string(),
           Tensor::from_vector({-1.5, 0.25, 2.0, -0.1, 3.0, 0.5}, {2, 3}, DType::Float32));
  opcheck::Case c = opcheck::load_manifest(dir.string()).at(0);
  const opcheck::CaseResult r = opcheck::run_case(dir.string(), c, Device::CPU);
  EXPECT_EQ(r.status, opcheck::Status::Pass) << r.message;
  fs::remove_all(dir);
}

// Every op of the spec's first table (PyTorch semantics) has an entry; --skip-unsupported must never hide one of them.
TEST(Opcheck, EveryTorchOpOfTheSpecIsRegistered) {
  for (const char* op : {"conv2d", "conv3d", "conv_transpose2d", "conv_transpose3d", "batch_norm", "group_norm", "relu",
                         "sigmoid", "tanh", "leaky_relu", "prelu", "max_pool2d", "max_pool3d", "upsample_bilinear2d",
                         "upsample_trilinear3d", "upsample_nearest2d", "softmax", "log_softmax", "cross_entropy",
                         "nll_loss", "mse_loss", "cat"})
    EXPECT_NE(opcheck::op_table().find(op), nullptr) << op;
}

// Every family's register function runs (one op of each), and a name registered twice is an error, not an abort.
TEST(Opcheck, OpTableIsBuiltExplicitlyAndRejectsDuplicates) {
  for (const char* op : {"conv2d", "batch_norm", "max_unpool3d", "upsample_nearest3d", "prelu", "laplacian_quadratic",
                         "coordconv_transpose2d", "size_penalty"})
    EXPECT_NE(opcheck::op_table().find(op), nullptr) << op;
  opcheck::OpTable t;
  opcheck::register_all_ops(t);
  EXPECT_EQ(t.names(), opcheck::op_table().names());
  const std::string e = error_of([&] { t.add("relu", [](const opcheck::OpCall& c) { return c.input("input"); }); });
  EXPECT_NE(e.find("'relu' has two entries"), std::string::npos) << e;
}
