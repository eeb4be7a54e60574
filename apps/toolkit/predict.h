// Applying a trained model to new scans: a checkpoint's model card (model_card.h) rebuilds the model through the
// registry (models/registry.h) and says how to prepare the scan; the label map comes back on the scan's own grid.
// Key decisions:
//  * the same code paths as the apps' evaluation, not a copy: 2-D models go through make_image_slices (the image half
//    of make_slice_set, which made the training data) and for_each_slice_batch (the loop of SliceEvaluator);
//  * the logits, not the labels, are resized back to the slice grid (bilinear, align_corners=False, the inverse of
//    the image's resize) before the argmax, batch by batch: memory holds the case's volumes, the label map and one
//    batch of full-resolution logits — never a K × D × H × W probability buffer, except with probabilities asked for,
//    where the logits at the model's size are kept and each class's map is made and handed out one at a time;
//  * orientation: the scan is permuted/flipped (exactly, no resampling) into the training volumes' axis codes, the
//    model applied, and the labels permuted back; when either orientation is unknown (a NIfTI without qform/sform,
//    a 2-D image, training cases stored in different orientations) the scan is used as stored and a warning says so.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "apps/toolkit/model_card.h"
#include "data/volume.h"
#include "models/registry.h"

namespace seg {

struct LoadedModel {
  std::string path;
  ModelCard card;
  BuiltModel model;
  Device device = Device::CPU;
};

// Reads the card, builds the model, loads the weights (errors name the checkpoint and what is missing or different).
LoadedModel load_model(const std::string& checkpoint, Device device);

struct PredictOptions {
  int64_t batch = 8;            // slices per forward pass (2-D models)
  bool reorient = true;         // false: apply the model to the scan as stored (a check, not for use)
  bool class_ids = false;       // write class ids 0..K−1 instead of the training data's label ids
};

struct PredictInput {
  std::string id;
  std::vector<Volume> channels;  // the modalities in the card's order (a volume may hold several channels)
  bool oriented = true;          // the file format gave a real orientation (false: NIfTI without qform/sform, PNG ...)
};

struct PredictResult {
  Volume labels;                     // on the input grid (dims, spacing, affine of channels[0]), datatype uint8/uint16
  std::vector<std::string> notes;    // what was done about orientation, and warnings
  std::vector<std::string> warnings;
};

// Predicts one case. `on_probability(k, p)` (optional) receives class k's softmax probability map on the input grid
// (float32), classes in order, one at a time.
PredictResult predict_case(const LoadedModel& m, const PredictInput& in, const PredictOptions& opt,
                           const std::function<void(int64_t k, const Volume& p)>& on_probability = {});

}  // namespace seg
