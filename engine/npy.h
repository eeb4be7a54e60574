// NumPy .npy files (format 1.0, and 2.0's 4-byte header length): the array format of the opcheck reference folders.
// Reads <f8 -> float64, <f4 -> float32, <i8 -> int64, and converts |u1, |b1, <i4 to int64; C order only.
// Key decisions: every malformed input (bad magic, truncated header or data, unknown dtype, big-endian, Fortran order,
// bad shape) is a seg::Error naming the file and what is wrong; writing goes to "<path>.tmp" and is renamed, so a
// crash never leaves a half-written array.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace seg {

// Loads a .npy file into a CPU tensor (0-d arrays give shape {}).
Tensor load_npy(const std::string& path);
// Parses the bytes of a .npy file; `name` is used in error messages.
Tensor parse_npy(const std::string& bytes, const std::string& name);

// Writes a tensor (any device; float32 -> <f4, float64 -> <f8, int64 -> <i8) as format 1.0 (2.0 if the header needs it).
void save_npy(const std::string& path, const Tensor& t);
std::string encode_npy(const Tensor& t);

}  // namespace seg
