// Checkpoints in the safetensors format (readable by Python's safetensors and by PyTorch through it):
// 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
// then the raw little-endian data. Key decision: files are written to "<path>.tmp" and renamed, so a crash never
// leaves a half-written checkpoint in place of a good one.
#pragma once
#include <map>
#include <string>

#include "engine/module.h"
#include "engine/optim.h"
#include "engine/tensor.h"

namespace seg {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;            // on the CPU
  std::map<std::string, std::string> metadata;
};

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
SafeTensors load_safetensors(const std::string& path);
// Parses the bytes of a safetensors file; `name` is used in error messages (every malformed input is a seg::Error).
SafeTensors parse_safetensors(const std::string& bytes, const std::string& name);

// "model.<name>" for parameters and buffers, "optim.<name>" for optimiser state; metadata as given.
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* opt,
                     const std::map<std::string, std::string>& metadata = {});
// Loads into an existing model (and optimiser); every tensor must be present with the same shape.
std::map<std::string, std::string> load_checkpoint(const std::string& path, Module& model, Optimizer* opt);

// Writes `bytes` to path atomically (temp file + rename); used by every writer of the project.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace seg
