// opcheck DIR [--device cpu|cuda] [--filter SUBSTRING] [--skip-unsupported]: checks the engine's ops against a folder
// of reference cases (shared/opcheck-format.md; tools/opcheck/gen_cases.py writes one with PyTorch). The logic is in
// engine/opcheck.{h,cpp}; the op entries in engine/opcheck_ops_<family>.cpp.
#include <iostream>

#include "engine/opcheck.h"

int main(int argc, char** argv) { return seg::opcheck::main_opcheck(argc, argv, std::cout, std::cerr); }
