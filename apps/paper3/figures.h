// Pictures of paper 3's results: an axial slice of a case as side-by-side panels — the image, the ground truth, one or
// more predictions (class colours blended over the image) and predicted edge probabilities (red over the image) — for
// the run overlays and for the paper's Figs 2–3 (Seg-Net without and with the EG-CNN stream on one slice).
// Colours as the paper's figures: BraTS NCR/NET red, ED green, ET yellow (so TC reads red + yellow and WT every
// colour); KiTS kidney red, tumour green.
#pragma once
#include <string>
#include <vector>

#include "data/pipeline3d/cases3d.h"
#include "data/report/overlay.h"

namespace seg {

struct SlicePanel {
  enum Kind { Image, Labels, Edges } kind = Image;
  const Volume* volume = nullptr;  // Labels: class ids; Edges: probabilities (channel 0 drawn)
};

// The axial slice (axial_axis of `image`) holding the most voxels of the foreground classes of `labels`.
int64_t busiest_axial_slice(const Volume& labels);
// Panels of one axial slice side by side (image channel `channel` in grey, normalised over the slice), upscaled by
// nearest neighbour so that the slice is at least ~192 pixels high; a 2-pixel white gap between panels.
RgbImage slice_panels(const Volume& image, int64_t channel, int64_t slice, const std::vector<SlicePanel>& panels,
                      const LabelScheme& scheme);
void write_panels_png(const std::string& path, const RgbImage& img);  // via a temp file + rename

}  // namespace seg
