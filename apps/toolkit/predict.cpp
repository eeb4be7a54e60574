// Applying a trained model to a scan (see predict.h).
#include "apps/toolkit/predict.h"

#include <algorithm>
#include <cmath>

#include "apps/toolkit/evaluate.h"
#include "apps/toolkit/slice_data.h"
#include "data/transforms/orientation.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/serialize.h"
#include "kernels/softmax.h"
#include "kernels/upsample.h"

namespace seg {

LoadedModel load_model(const std::string& checkpoint, Device device) {
  LoadedModel m;
  m.path = checkpoint;
  m.device = device;
  const SafeTensors st = load_safetensors(checkpoint);
  m.card = ModelCard::from_metadata(st.metadata, checkpoint);
  try {
    m.model = build_model(m.card.architecture, m.card.config);
  } catch (const std::exception& e) {
    fail(checkpoint, ": ", e.what());
  }
  SEG_CHECK(m.model.in_channels == 0 || m.model.in_channels == m.card.in_channels, checkpoint, ": the card says ",
            m.card.in_channels, " input channels, the model's config ", m.model.in_channels);
  // the weights: every parameter and buffer present with its shape (load_checkpoint's checks, from the bytes read)
  for (const auto& list : {m.model.module->named_parameters(), m.model.module->named_buffers()})
    for (const auto& [name, t] : list) {
      const auto it = st.tensors.find("model." + name);
      SEG_CHECK(it != st.tensors.end(), checkpoint, ": no tensor 'model.", name, "' for the ", m.card.architecture,
                " its card describes (a damaged file?)");
      SEG_CHECK(it->second.shape() == t.shape(), checkpoint, ": 'model.", name, "' has shape ", shape_str(it->second.shape()),
                ", the ", m.card.architecture, " its card describes expects ", shape_str(t.shape()));
      Tensor dst = t;
      dst.copy_from_(it->second);
    }
  m.model.module->to(device);
  m.model.module->eval();
  return m;
}

namespace {

// Class ids → label ids of the training data (or kept), as the written datatype's values.
std::string label_datatype(int max_id) { return max_id <= 255 ? "uint8" : max_id <= 65535 ? "uint16" : "int32"; }

Normalisation card_normalisation(const ModelCard& c, const std::string& path) {
  try {
    return parse_normalisation(c.preprocessing.normalisation);
  } catch (const std::exception& e) {
    fail(path, ": ", e.what());
  }
}

// The inputs as the model saw its training cases: intensity scaling (when the app recorded one), orientation.
struct Prepared {
  std::vector<Volume> channels;
  Reorientation orient;       // input → training orientation
  Reorientation slice_perm;   // training orientation → slice axis last
};

Prepared prepare(const LoadedModel& m, const PredictInput& in, const PredictOptions& opt, PredictResult& r) {
  const Preprocessing& p = m.card.preprocessing;
  SEG_CHECK(!in.channels.empty(), "case ", in.id, ": no image");
  int64_t C = 0;
  for (const auto& v : in.channels) {
    SEG_CHECK(v.dims == in.channels[0].dims, "case ", in.id, ": the modalities' grids differ (", v.nx(), "x", v.ny(), "x",
              v.nz(), " vs ", in.channels[0].nx(), "x", in.channels[0].ny(), "x", in.channels[0].nz(), ")");
    C += v.channels;
  }
  std::string mods;
  for (const auto& s : m.card.modalities) mods += (mods.empty() ? "" : ", ") + s;
  SEG_CHECK(C == m.card.in_channels, "case ", in.id, ": ", C, " input channel(s), the model takes ", m.card.in_channels,
            " (", mods, "): give one file per modality in this order (nnU-Net naming CASE_0000, CASE_0001, ... with -i)");
  Prepared out;
  out.channels = in.channels;
  if (!p.intensity.empty()) {
    SEG_CHECK(static_cast<int64_t>(p.intensity.size()) == C, m.path, ": the card's intensity scaling has ", p.intensity.size(),
              " channels, the model ", C);
    int64_t c0 = 0;
    for (auto& v : out.channels)
      for (int64_t c = 0; c < v.channels; ++c, ++c0) {
        const auto [shift, scale] = p.intensity[static_cast<size_t>(c0)];
        float* d = v.data.data() + c * v.voxels();
        for (int64_t i = 0; i < v.voxels(); ++i) d[i] = static_cast<float>((d[i] - shift) / scale);
      }
  }
  const Volume& ref = in.channels[0];
  const std::string codes = axis_codes(ref);
  if (ref.nz() == 1 && p.slice_axis == 2) {
    r.notes.push_back("2-D image: used as stored (row 0 at the top), as the training images were");
  } else if (!opt.reorient) {
    r.warnings.push_back("orientation not checked (--no-reorient): the scan is used as stored (" + codes + ")");
  } else if (p.orientation.empty()) {
    std::string seen;
    for (const auto& [c, n] : p.orientations_seen) seen += (seen.empty() ? "" : ", ") + c + " ×" + std::to_string(n);
    r.warnings.push_back("the training volumes' orientation is unknown" +
                         (seen.empty() ? std::string() : " (they were stored in several: " + seen + ")") +
                         ": the scan is used as stored (" + codes + "); check the overlay");
  } else if (!in.oriented) {
    r.warnings.push_back("the scan's file gives no orientation (NIfTI qform_code and sform_code 0?): it is used as stored "
                         "(taken as " + codes + "; the model was trained on " + p.orientation + "); check the overlay");
  } else {
    out.orient = reorientation(codes, p.orientation);
    r.notes.push_back(out.orient.identity() ? "orientation " + codes + " as in training"
                                            : "reoriented " + codes + " → " + p.orientation + " for the model and back");
  }
  if (p.slice_axis != 2) {
    out.slice_perm.perm = p.slice_axis == 0 ? std::array<int, 3>{1, 2, 0} : std::array<int, 3>{0, 2, 1};
  }
  for (auto& v : out.channels) v = reorient(reorient(v, out.orient), out.slice_perm);
  return out;
}

// Logits (n, K, h, w) → (n, K, ny, nx) on the CPU in float32 (bilinear, align_corners=False; identity when equal).
Tensor to_slice_grid(const Tensor& logits, int64_t ny, int64_t nx) {
  NoGradGuard ng;
  Tensor l = logits.to(Device::CPU).to(DType::Float32);
  if (l.size(2) == ny && l.size(3) == nx) return l;
  return upsample_bilinear2d(l, ny, nx, false);
}

Volume back_to_input(Volume v, const Prepared& pr, const Volume& ref) {
  v = reorient_back(reorient_back(v, pr.slice_perm), pr.orient);
  v.dims = ref.dims;
  v.spacing = ref.spacing;
  v.affine = ref.affine;
  return v;
}

}  // namespace

PredictResult predict_case(const LoadedModel& m, const PredictInput& in, const PredictOptions& opt,
                           const std::function<void(int64_t, const Volume&)>& on_probability) {
  const Preprocessing& p = m.card.preprocessing;
  SEG_CHECK(p.kind == "slices2d", m.path, ": a '", p.kind, "' model: segtool predict applies 2-D slice models; 3-D models "
            "need the sliding window of data/pipeline3d (paper 3), which is not on this branch yet");
  PredictResult r;
  const Prepared pr = prepare(m, in, opt, r);
  const Volume& g = pr.channels[0];  // the grid the model runs on (training orientation, slice axis last)
  const int64_t nx = g.nx(), ny = g.ny(), nz = g.nz(), K = m.card.classes, P = nx * ny;
  const SliceSet s = make_image_slices(in.id, pr.channels, K, p.size[0], p.size[1], card_normalisation(m.card, m.path));
  const ForwardFn forward = [&m](const Tensor& x) { return Outputs{m.model.segment(x), {}}; };

  Volume cls = Volume::make(g.dims, g.spacing);
  std::vector<Tensor> kept;  // logits at the model's size, only when probabilities are asked for
  for_each_slice_batch(forward, s, opt.batch, m.device, [&](int64_t z0, const Tensor& device_logits) {
    SEG_CHECK(device_logits.size(1) == K, m.path, ": the model gives ", device_logits.size(1), " classes, its card says ", K);
    const Tensor l = to_slice_grid(device_logits, ny, nx);
    if (on_probability) kept.push_back(device_logits.to(Device::CPU).to(DType::Float32));
    const float* d = l.data<float>();
    const int64_t n = l.size(0);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t q = 0; q < P; ++q) {
        int64_t best = 0;
        for (int64_t k = 1; k < K; ++k)
          if (d[(b * K + k) * P + q] > d[(b * K + best) * P + q]) best = k;
        cls.data[static_cast<size_t>((z0 + b) * P + q)] = static_cast<float>(best);
      }
  });

  int max_id = 0;
  std::vector<float> id_of(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    id_of[static_cast<size_t>(k)] = static_cast<float>(opt.class_ids ? static_cast<int>(k) : m.card.label_id(k));
    max_id = std::max(max_id, static_cast<int>(id_of[static_cast<size_t>(k)]));
  }
  for (float& v : cls.data) v = id_of[static_cast<size_t>(v)];
  r.labels = back_to_input(std::move(cls), pr, in.channels[0]);
  r.labels.datatype = label_datatype(max_id);

  if (on_probability) {
    NoGradGuard ng;
    for (int64_t k = 0; k < K; ++k) {
      Volume pk = Volume::make(g.dims, g.spacing);
      int64_t z0 = 0;
      for (const Tensor& lk : kept) {
        const Tensor prob = softmax(to_slice_grid(lk, ny, nx), 1);
        const float* d = prob.data<float>();
        const int64_t n = prob.size(0);
        for (int64_t b = 0; b < n; ++b) std::copy(d + (b * K + k) * P, d + (b * K + k + 1) * P, pk.data.begin() + (z0 + b) * P);
        z0 += n;
      }
      SEG_CHECK(z0 == nz, "internal: probability slices ", z0, " of ", nz);
      pk = back_to_input(std::move(pk), pr, in.channels[0]);
      pk.datatype = "float32";
      on_probability(k, pk);
    }
  }
  return r;
}

}  // namespace seg
