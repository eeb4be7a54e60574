// read_image / write_image: one entry point for every format, chosen by extension (or a folder = DICOM series),
// plus the small primitives all readers share (datatypes, checked sizes, whole-file reads, atomic writes).
// Key decisions: Volume::affine is always in RAS+ world millimetres (NIfTI's convention); LPS formats (MetaImage, NRRD
// in LPS space, DICOM) are converted on read and write, so affines from different formats compare directly.
// Every reader throws std::runtime_error("<file>: <what is wrong>") and never trusts a size before checking it.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/volume.h"

namespace seg {

// Reads .nii/.nii.gz, .mha/.mhd, .nrrd/.nhdr, .png, .jpg/.jpeg, .gif, .IMG (JSRT), or a folder of one DICOM series.
Volume read_image(const std::string& path);
// Writes .nii/.nii.gz, .mha/.mhd, .nrrd, .png (2-D only) with vol.datatype as the on-disk type.
void write_image(const std::string& path, const Volume& vol);

namespace io {

// The largest volume any reader accepts (elements, channels included): hostile headers cannot ask for more memory.
constexpr int64_t kMaxElements = int64_t(1) << 31;

// Bytes per sample of "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32",
// "float64"; 0 for anything else.
size_t datatype_size(const std::string& dt);
bool datatype_is_integer(const std::string& dt);
// The lowest and highest value of an integer datatype (float types: +-FLT_MAX).
std::pair<double, double> datatype_range(const std::string& dt);

// a*b with an error naming `file` on overflow or a negative operand.
int64_t checked_mul(int64_t a, int64_t b, const std::string& file, const char* what);
// dims[0]*dims[1]*dims[2]*channels, each >= 1, product <= kMaxElements, else an error naming the file.
int64_t checked_elements(const std::array<int64_t, 3>& dims, int64_t channels, const std::string& file);

// Converts n samples of `dt` (byte order: big_endian) to float, applying v*slope + inter.
void decode_samples(const uint8_t* src, size_t n, const std::string& dt, bool big_endian, double slope, double inter,
                    float* dst);
// Converts floats to `dt` little-endian bytes (integers rounded to nearest and clamped to the type's range).
std::vector<uint8_t> encode_samples(const float* src, size_t n, const std::string& dt);
// True when every value is an integer inside dt's range (or dt is a float type): writing needs no scaling.
bool representable(const std::vector<float>& data, const std::string& dt);

// The whole file; the error names the file when it cannot be opened or read.
std::vector<uint8_t> read_file(const std::string& path);
// The whole file through zlib's gz* API (gzip or plain alike), grown in chunks and capped at max_bytes.
std::vector<uint8_t> read_gz_file(const std::string& path, size_t max_bytes);
// Inflates a zlib or gzip stream held in memory into exactly `expected` bytes (error if it holds fewer).
std::vector<uint8_t> inflate_exact(const uint8_t* src, size_t n, size_t expected, const std::string& file);
// Writes PATH.tmp, then renames it over PATH, so a failed write never leaves a half file at PATH.
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip);

// Shortest decimal text that reads back as the same double (for text headers).
std::string format_double(double v);
// Parses whitespace/comma separated numbers (brackets ignored); false on any non-number token or non-finite value.
bool parse_doubles(const std::string& text, std::vector<double>& out);
// Trims spaces, tabs and CR from both ends.
std::string trim(const std::string& s);

// Lower-cased extension including compression: "nii.gz", "nii", "mha", "png", ...
std::string extension(const std::string& path);

// Warnings of the readers and loaders: something the format allows but the user must know about (a spacing of 0 or
// NaN replaced by an assumed value, a label missing from a patient). The default handler prints "warning: MSG" on
// stderr; set_warning_handler replaces it (tests capture, apps may log) and returns the previous one.
using WarningHandler = void (*)(const std::string& msg);
void warn(const std::string& msg);
WarningHandler set_warning_handler(WarningHandler h);

// Little-endian scalar stores for writers.
template <typename T>
void put_le(std::vector<uint8_t>& buf, size_t off, T v) {
  static_assert(sizeof(T) <= 8);
  uint8_t b[sizeof(T)];
  __builtin_memcpy(b, &v, sizeof(T));  // host is little-endian (x86-64, aarch64); checked in image_io.cpp
  for (size_t i = 0; i < sizeof(T); ++i) buf[off + i] = b[i];
}

}  // namespace io
}  // namespace seg
