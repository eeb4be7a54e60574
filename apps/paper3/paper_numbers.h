// Paper 3's published numbers (Hatamizadeh, Terzopoulos & Myronenko, "Edge-Gated CNNs for Volumetric Semantic
// Segmentation of Medical Images", MIDL 2020 submission): Table 1 (BraTS 2019, Dice of ET, TC, WT and their average)
// and Table 2 (KiTS 2019, kidney, tumour and composite Dice), as mean ± sd, for the three backbones without and with
// the EG-CNN stream. The ± is not defined by the paper (presumably over runs).
#pragma once
#include <array>
#include <string>

namespace seg::paper3 {

struct PaperCell {
  double mean, sd;
};

struct PaperRow {
  const char* backbone;  // our name: unet3d | vnet | segresnet
  const char* label;     // the paper's: U-Net | V-Net | Seg-Net
  bool edge;
  std::array<PaperCell, 4> cells;  // Table 1: average, ET, TC, WT; Table 2: kidney, tumour, composite (4th unused)
};

inline constexpr std::array<PaperRow, 6> kTable1{{
    {"unet3d", "U-Net", false, {{{0.8305, 0.0035}, {0.7375, 0.0021}, {0.8480, 0.0056}, {0.9060, 0.0021}}}},
    {"vnet", "V-Net", false, {{{0.8281, 0.0035}, {0.7255, 0.0049}, {0.8570, 0.0042}, {0.9020, 0.0014}}}},
    {"segresnet", "Seg-Net", false, {{{0.8300, 0.0033}, {0.7330, 0.0042}, {0.8550, 0.0049}, {0.9015, 0.0007}}}},
    {"unet3d", "U-Net", true, {{{0.8406, 0.0028}, {0.7530, 0.0113}, {0.8630, 0.0014}, {0.9006, 0.0042}}}},
    {"vnet", "V-Net", true, {{{0.8386, 0.0051}, {0.7460, 0.0056}, {0.8605, 0.0035}, {0.9095, 0.0063}}}},
    {"segresnet", "Seg-Net", true, {{{0.8570, 0.0007}, {0.7680, 0.0113}, {0.8850, 0.0070}, {0.9180, 0.0028}}}},
}};
inline constexpr std::array<const char*, 4> kTable1Columns{"average", "ET", "TC", "WT"};

inline constexpr std::array<PaperRow, 6> kTable2{{
    {"unet3d", "U-Net", false, {{{0.9515, 0.0049}, {0.8245, 0.0091}, {0.8880, 0.0070}, {0, 0}}}},
    {"vnet", "V-Net", false, {{{0.9370, 0.0065}, {0.8072, 0.0072}, {0.8720, 0.0068}, {0, 0}}}},
    {"segresnet", "Seg-Net", false, {{{0.9530, 0.0028}, {0.8235, 0.0049}, {0.8892, 0.0038}, {0, 0}}}},
    {"unet3d", "U-Net", true, {{{0.9620, 0.0056}, {0.8270, 0.0084}, {0.8945, 0.0070}, {0, 0}}}},
    {"vnet", "V-Net", true, {{{0.9483, 0.0048}, {0.8275, 0.0087}, {0.8879, 0.0067}, {0, 0}}}},
    {"segresnet", "Seg-Net", true, {{{0.9647, 0.0051}, {0.8353, 0.0025}, {0.9000, 0.0038}, {0, 0}}}},
}};
inline constexpr std::array<const char*, 3> kTable2Columns{"kidney", "tumour", "composite"};

}  // namespace seg::paper3
