// opcheck DIR [--device cpu|cuda] [--filter SUBSTRING] [--skip-unsupported]: checks the engine's ops against a folder
// of reference cases (docs/opcheck-format.md; tools/opcheck/gen_cases.py writes one with PyTorch). The runner and the
// op entries are the segopcheck library in tools/opcheck/.
#include <iostream>

#include "tools/opcheck/opcheck.h"

int main(int argc, char** argv) { return seg::opcheck::main_opcheck(argc, argv, std::cout, std::cerr); }
