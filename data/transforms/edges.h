// Edges of the one-hot masks of a label map through a 3-D Sobel filter: paper 3's edge ground truth, Volume-level
// (the engine's edge_map kernel does the same on tensors during training).
// Definition (as kernels/sobel.h): for each class k the one-hot mask is correlated with the three Sobel filters
// (derivative [−1, 0, 1] along one axis × smoothing [1, 2, 1] along the others; 2-D images use the 3×3 pair), zero
// padding; a voxel is an edge of k where any component is non-zero. So both sides of every class boundary are marked,
// and a class touching the image border is edged there (the padding is 0).
#pragma once
#include "data/volume.h"

namespace seg {

// channels = n_classes (class k at channel k, background included), values 0/1, on labels' grid.
Volume sobel_edges_onehot(const Volume& labels, int n_classes);
// The union over classes 1..n_classes−1 (foreground edges), one channel, uint8.
Volume sobel_edges(const Volume& labels, int n_classes);

}  // namespace seg
