// Paper 4's published numbers as data (Tables 1–3), so the app prints and writes them beside ours.
// Table 1/3: Dice and Jaccard per structure (cup, disc on ORIGA; polyp on GIANA 2018); Table 2: inference time per
// image (ms, GTX 1060) and parameter count. Table 3's D3 row is the +Conv MD model of Table 1 (its polyp figures are
// Table 1's; its cup figures differ, 0.8736 vs 0.8721, as printed in the paper).
#pragma once
#include <cstdint>
#include <string>

#include "data/transforms/distance_maps.h"
#include "models/multitask_unet.h"

namespace seg::paper4 {

struct DiceJaccard {
  double dice = 0, jaccard = 0;
};

// structure: "cup" | "disc" | "polyp"
DiceJaccard paper_table1(MultitaskVariant v, const std::string& structure);
DiceJaccard paper_table3(DistanceVariant v, const std::string& structure);
double paper_table2_ms(MultitaskVariant v);
int64_t paper_table2_parameters(MultitaskVariant v);

}  // namespace seg::paper4
