// Registry of the procedural phantoms: one name per data set, each written in its official layout so the data-set
// loader (data/datasets) reads phantoms and real downloads alike (`segtool phantom NAME OUTDIR`).
// Key decision: a phantom is a pure function of (seed, case index); `size` (0 = the data set's native grid) shrinks
// the in-plane grid while keeping the physical field of view, for fast CPU runs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace seg {

// Names accepted by write_phantom (segthor, acdc, jsrt, brats19, kits19, promise12, polyp, fundus, as written).
std::vector<std::string> phantom_names();
// Writes n cases of phantom `name` under dir; throws for an unknown name (listing the known ones).
void write_phantom(const std::string& name, const std::string& dir, int n, uint64_t seed, int64_t size = 0);

}  // namespace seg
