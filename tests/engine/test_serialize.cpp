// safetensors: round trip of every dtype, a file parsed by an independent reader (Python's json + numpy, following
// the format's definition), clear errors on truncated or corrupt files, and checkpoints of a module + Adam state.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/optim.h"
#include "engine/serialize.h"

using namespace seg;
namespace fs = std::filesystem;

namespace {
std::string tmp(const std::string& name) { return (fs::temp_directory_path() / (name + std::to_string(getpid()))).string(); }
}  // namespace

TEST(Safetensors, RoundTripEveryDtypeAndMetadata) {
  const std::string p = tmp("st_rt");
  std::map<std::string, Tensor> t{{"a", Tensor::from_vector({1.5, -2, 3}, {3}, DType::Float32)},
                                  {"b", Tensor::from_vector({0.25, 1e-300, -7, 8}, {2, 2}, DType::Float64)},
                                  {"c", Tensor::from_labels({-1, 2, 1LL << 40}, {3, 1})},
                                  {"s", Tensor::scalar(4, DType::Float64)}};
  save_safetensors(p, t, {{"epoch", "3"}});
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  SafeTensors r = load_safetensors(p);
  ASSERT_EQ(r.tensors.size(), 4u);
  for (auto& [k, v] : t) {
    EXPECT_EQ(r.tensors[k].dtype(), v.dtype()) << k;
    EXPECT_EQ(r.tensors[k].shape(), v.shape()) << k;
    EXPECT_EQ(r.tensors[k].to_vector(), v.to_vector()) << k;
  }
  EXPECT_EQ(r.metadata["epoch"], "3");
  fs::remove(p);
}

TEST(Safetensors, ReadableByAnIndependentReader) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) GTEST_SKIP() << "/usr/bin/python3 with numpy not available";
  const std::string p = tmp("st_py");
  save_safetensors(p, {{"w", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::Float32)}});
  const std::string cmd = "/usr/bin/python3 -c \"import json,struct,numpy as np; b=open('" + p +
                          "','rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); e=h['w']; "
                          "a=np.frombuffer(b[8+n+e['data_offsets'][0]:8+n+e['data_offsets'][1]],'<f4').reshape(e['shape']); "
                          "print(e['dtype'], a.sum(), a[1,2])\"";
  FILE* f = popen(cmd.c_str(), "r");
  char dtype[16] = {0};
  double sum = 0, last = 0;
  ASSERT_EQ(std::fscanf(f, "%15s %lf %lf", dtype, &sum, &last), 3);
  pclose(f);
  EXPECT_STREQ(dtype, "F32");
  EXPECT_EQ(sum, 21);
  EXPECT_EQ(last, 6);
  fs::remove(p);
}

TEST(Safetensors, CorruptFilesGiveClearErrors) {
  const std::string p = tmp("st_bad");
  save_safetensors(p, {{"w", Tensor::zeros({100})}});
  std::string bytes;
  {
    std::ifstream f(p, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    try {
      load_safetensors(p);
      FAIL() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  };
  expect_error(bytes.substr(0, bytes.size() - 10), "truncated");
  expect_error(bytes.substr(0, 5), "not a safetensors file");
  std::string bad = bytes;
  bad[9] = '#';
  expect_error(bad, "not valid JSON");
  EXPECT_THROW(load_safetensors(p + ".missing"), Error);
  fs::remove(p);
}

namespace {
// A safetensors file from a header text and a data block.
std::string st_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}
}  // namespace

// Headers a fuzzer (tools/fuzz/fuzz_safetensors.cpp) or a hostile file can hold: every one is a seg::Error naming the
// file and the entry, never another exception type, an out-of-range cast, or an allocation the file cannot back.
TEST(Safetensors, HostileHeadersAreErrorsNamingTheFile) {
  const std::string eight(8, '\0');
  auto expect_error = [](const std::string& bytes, const std::string& needle) {
    try {
      parse_safetensors(bytes, "ckpt.safetensors");
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("ckpt.safetensors"), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected seg::Error, got another exception: " << e.what();
    }
  };
  // The well-formed baseline parses.
  EXPECT_EQ(parse_safetensors(st_bytes(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", eight), "x")
                .tensors.at("w").numel(), 1);
  expect_error(st_bytes(R"({"w":{"dtype":64,"shape":[1],"data_offsets":[0,8]}})", eight), "dtype that is not a string");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[1.5],"data_offsets":[0,8]}})", eight), "not a non-negative integer");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[1e300],"data_offsets":[0,8]}})", eight), "not a non-negative integer");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[-1],"data_offsets":[0,8]}})", eight), "not a non-negative integer");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":"1","data_offsets":[0,8]}})", eight), "not an array");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[-8,0]}})", eight), "data_offsets");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[1],"data_offsets":[0]}})", eight), "data_offsets");
  expect_error(st_bytes(R"({"w":[1,2,3]})", eight), "lacks dtype");
  expect_error(st_bytes(R"({"__metadata__":[1,2]})", ""), "__metadata__ is not a JSON object");
  expect_error(st_bytes(R"({"__metadata__":{"a":[[[1]]]}})", ""), "maps strings to strings");
  // A shape of 2^40 elements backed by 8 bytes: refused before allocating 8 TiB.
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[1099511627776],"data_offsets":[0,8]}})", eight), "needs 1099511627776 x 8");
  // A shape whose element count overflows int64, and one whose byte count overflows.
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight), "overflows");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})", ""), "needs 2305843009213693952 x 8");
  expect_error(st_bytes(R"({"w":{"dtype":"F64","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,8]}})", eight), "at most 8");
}

namespace {
class Tiny : public Module {
 public:
  Tiny() {
    w = register_parameter("w", Tensor::from_vector({1, 2}, {2}));
    rm = register_buffer("rm", Tensor::from_vector({5}, {1}));
  }
  Tensor w, rm;
};
}  // namespace

TEST(Checkpoint, ModuleAndAdamStateResume) {
  const std::string p = tmp("ckpt");
  Tiny a;
  Adam opt(a.named_parameters(), 0.1);
  a.w.set_grad(Tensor::from_vector({1, -1}, {2}));
  opt.step();
  save_checkpoint(p, a, &opt, {{"epoch", "1"}});
  Tiny b;
  Adam opt_b(b.named_parameters(), 0.1);
  auto meta = load_checkpoint(p, b, &opt_b);
  EXPECT_EQ(meta["epoch"], "1");
  EXPECT_EQ(b.w.to_vector(), a.w.to_vector());
  EXPECT_EQ(b.rm.to_vector(), a.rm.to_vector());
  EXPECT_EQ(opt_b.steps(), 1);
  // the next step from the resumed state equals the next step of the original
  a.w.set_grad(Tensor::from_vector({0.5, 0.5}, {2}));
  b.w.set_grad(Tensor::from_vector({0.5, 0.5}, {2}));
  opt.step();
  opt_b.step();
  EXPECT_EQ(b.w.to_vector(), a.w.to_vector());
  fs::remove(p);
}
