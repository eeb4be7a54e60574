// The outputs of segthor_weak: results.json, results.md (our Table I row beside the paper's), curve.svg and
// overlays of validation slices. Key decision: the paper's figures are data here (one table), printed beside ours
// with the protocol differences stated, so a reader never mistakes a phantom run for a reproduction on SegTHOR.
#pragma once
#include <string>

#include "apps/common/cli.h"
#include "apps/common/segthor_data.h"
#include "apps/common/slice_trainer.h"

namespace seg {

void write_segthor_report(const std::string& out_dir, const cli::Args& args, const SegthorSplit& data,
                          const TrainResult& result, const ForwardFn& forward, Device device);

}  // namespace seg
