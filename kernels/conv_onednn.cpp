// oneDNN convolution plans for the CPU fast path (see conv_onednn.h).
// Key decisions: one plan per geometry (primitive descriptors are JIT-compiled, so they are built once and cached);
// oneDNN picks its own blocked layouts ("any") and reorders from and to our plain NC(D)HW tensors around each call,
// into buffers from our caching allocator; a geometry oneDNN declines is remembered as unusable and goes to im2col.
#include "kernels/conv_onednn.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#ifdef SEG_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>
#endif

namespace seg::onednn {

namespace {

std::atomic<int64_t>& call_count() {
  static std::atomic<int64_t> n{0};
  return n;
}

std::atomic<int>& setting() {
  // -1: not read yet; 0: off; 1: on
  static std::atomic<int> s{-1};
  return s;
}

}  // namespace

#ifdef SEG_WITH_ONEDNN
bool built() { return true; }
#else
bool built() { return false; }
#endif

bool enabled() {
  if (!built()) return false;
  int s = setting().load();
  if (s < 0) {
    const char* e = std::getenv("SEG_CPU_CONV");
    s = (e && std::strcmp(e, "im2col") == 0) ? 0 : 1;
    setting().store(s);
  }
  return s == 1;
}

int64_t calls() { return call_count().load(); }

bool set_enabled(bool on) {
  const bool prev = enabled();
  setting().store(on ? 1 : 0);
  return prev;
}

#ifndef SEG_WITH_ONEDNN

bool usable(const ConvGeom&, int64_t, int64_t, bool, DType, bool) { return false; }
void conv_forward(const Tensor&, const Tensor&, const Tensor&, Tensor&, const ConvGeom&, int64_t) {
  SEG_CHECK(false, "conv2d/3d: built without oneDNN");
}
void conv_backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&, const ConvGeom&, int64_t,
                   bool) {
  SEG_CHECK(false, "conv2d/3d backward: built without oneDNN");
}
void conv_transpose_forward(const Tensor&, const Tensor&, const Tensor&, Tensor&, const ConvGeom&, int64_t) {
  SEG_CHECK(false, "conv_transpose2d/3d: built without oneDNN");
}
void conv_transpose_backward(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, Tensor&, const ConvGeom&,
                             int64_t, bool) {
  SEG_CHECK(false, "conv_transpose2d/3d backward: built without oneDNN");
}

#else

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One argument of a primitive: the user's plain layout, the primitive's layout, and the reorders between them
// (built only when the layouts differ).
struct Port {
  memory::desc user, prim;
  std::optional<dnnl::reorder> in, out;
  void bind(const memory::desc& u, const memory::desc& p, bool to_prim, bool from_prim) {
    user = u;
    prim = p;
    if (user == prim) return;
    if (to_prim) in = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), user, cpu_engine(), prim));
    if (from_prim) out = dnnl::reorder(dnnl::reorder::primitive_desc(cpu_engine(), prim, cpu_engine(), user));
  }
};

// Buffers in the primitive's layout for the duration of one call, from our caching allocator.
class Staging {
 public:
  memory user_memory(const Port& p, const void* ptr) { return memory(p.user, cpu_engine(), const_cast<void*>(ptr)); }
  // The argument as the primitive wants it: the user's buffer itself, or a reordered copy.
  memory input(dnnl::stream& s, const Port& p, const void* ptr) {
    memory u = user_memory(p, ptr);
    if (!p.in) return u;
    memory m = scratch(p.prim);
    p.in->execute(s, u, m);
    return m;
  }
  // Where the primitive writes an output; finish_output copies it back to the user's buffer when needed.
  memory output(const Port& p, void* ptr) { return p.out ? scratch(p.prim) : user_memory(p, ptr); }
  void finish_output(dnnl::stream& s, const Port& p, memory m, void* ptr) {
    if (!p.out) return;
    memory u = user_memory(p, ptr);
    p.out->execute(s, m, u);
  }

 private:
  memory scratch(const memory::desc& d) {
    const int64_t n = static_cast<int64_t>((d.get_size() + sizeof(float) - 1) / sizeof(float));
    buffers_.push_back(Tensor::empty({n > 0 ? n : 1}, DType::Float32));
    return memory(d, cpu_engine(), buffers_.back().data<float>());
  }
  std::vector<Tensor> buffers_;
};

struct Geometry {
  bool transposed, has_bias;
  int64_t N, src_c, dst_c;
  memory::dims src, dst, wei, strides, dilates, pad_l, pad_r;
};

// Key: everything the primitives depend on (the kind flags, then every dims list with its length).
using Key = std::vector<int64_t>;

struct Plan {
  bool ok = false;
  Geometry geo;
  // forward
  std::optional<dnnl::primitive> fwd;
  Port f_src, f_wei, f_dst;
  memory::desc bias_md;
  // backward data (built on first use)
  bool bd_built = false;
  std::optional<dnnl::primitive> bwd_data;
  Port bd_ddst, bd_wei, bd_dsrc;
  // backward weights, with the bias gradient when the convolution has a bias (built on first use)
  bool bw_built = false;
  std::optional<dnnl::primitive> bwd_weights;
  Port bw_src, bw_ddst, bw_dwei, bw_dbias;
  // forward primitive descriptor: the hint for the backward ones
  std::optional<dnnl::convolution_forward::primitive_desc> conv_pd;
  std::optional<dnnl::deconvolution_forward::primitive_desc> deconv_pd;
};

memory::desc plain(const memory::dims& d) {
  return memory::desc(d, dt::f32, d.size() == 4 ? tag::nchw : tag::ncdhw);
}
memory::desc any(const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); }
// Our weights: (Cout, Cin, k...) for convolutions; (Cin, Cout, k...) for transposed ones, which oneDNN (whose
// deconvolution weights are logically (Cout, Cin, k...)) calls iohw.
memory::desc user_weights(const Geometry& g) {
  const bool d4 = g.wei.size() == 4;
  if (!g.transposed) return memory::desc(g.wei, dt::f32, d4 ? tag::oihw : tag::oidhw);
  return memory::desc(g.wei, dt::f32, d4 ? tag::iohw : tag::iodhw);
}

// The geometry in oneDNN's terms.
Geometry describe(const ConvGeom& c, int64_t N, int64_t other, bool transposed, bool has_bias) {
  Geometry g;
  g.transposed = transposed;
  g.has_bias = has_bias;
  g.N = N;
  const int64_t img_c = c.C;
  g.src_c = transposed ? other : img_c;
  g.dst_c = transposed ? img_c : other;
  const bool two_d = c.D == 1 && c.OD == 1 && c.kd == 1 && c.pd == 0 && c.sd == 1 && c.dd == 1;
  const int64_t img[3] = {c.D, c.H, c.W}, col[3] = {c.OD, c.OH, c.OW}, k[3] = {c.kd, c.kh, c.kw},
                s[3] = {c.sd, c.sh, c.sw}, p[3] = {c.pd, c.ph, c.pw}, d[3] = {c.dd, c.dh, c.dw};
  g.src = {N, g.src_c};
  g.dst = {N, g.dst_c};
  g.wei = {g.dst_c, g.src_c};
  for (int i = two_d ? 1 : 0; i < 3; ++i) {
    g.src.push_back(transposed ? col[i] : img[i]);
    g.dst.push_back(transposed ? img[i] : col[i]);
    g.wei.push_back(k[i]);
    g.strides.push_back(s[i]);
    g.dilates.push_back(d[i] - 1);
    g.pad_l.push_back(p[i]);
    // the image-grid extent that the column grid covers, minus the image and the left padding: negative when the
    // last window stops short of the image's end (a stride that does not divide it; an output_padding > padding),
    // which oneDNN accepts
    g.pad_r.push_back((col[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - img[i] - p[i]);
  }
  return g;
}

Key key_of(const Geometry& g) {
  Key v{g.transposed ? 1 : 0, g.has_bias ? 1 : 0};
  for (const auto* dims : {&g.src, &g.dst, &g.wei, &g.strides, &g.dilates, &g.pad_l, &g.pad_r}) {
    v.push_back(static_cast<int64_t>(dims->size()));
    v.insert(v.end(), dims->begin(), dims->end());
  }
  return v;
}

// The oneDNN primitive families of a plain and of a transposed convolution; the plan builders are written once.
struct ConvKind {
  using Fwd = dnnl::convolution_forward;
  using BwdData = dnnl::convolution_backward_data;
  using BwdWeights = dnnl::convolution_backward_weights;
  static constexpr dnnl::algorithm alg = dnnl::algorithm::convolution_direct;
  static std::optional<Fwd::primitive_desc>& hint(Plan& p) { return p.conv_pd; }
};
struct DeconvKind {
  using Fwd = dnnl::deconvolution_forward;
  using BwdData = dnnl::deconvolution_backward_data;
  using BwdWeights = dnnl::deconvolution_backward_weights;
  static constexpr dnnl::algorithm alg = dnnl::algorithm::deconvolution_direct;
  static std::optional<Fwd::primitive_desc>& hint(Plan& p) { return p.deconv_pd; }
};

template <class K>
void build_forward_as(Plan& p) {
  const Geometry& g = p.geo;
  p.bias_md = memory::desc({g.dst_c}, dt::f32, tag::a);
  typename K::Fwd::desc d(dnnl::prop_kind::forward_training, K::alg, any(g.src), any(g.wei),
                          g.has_bias ? p.bias_md : memory::desc(), any(g.dst), g.strides, g.dilates, g.pad_l, g.pad_r);
  auto& pd = K::hint(p).emplace(d, cpu_engine());
  p.fwd = typename K::Fwd(pd);
  p.f_src.bind(plain(g.src), pd.src_desc(), true, false);
  p.f_wei.bind(user_weights(g), pd.weights_desc(), true, false);
  p.f_dst.bind(plain(g.dst), pd.dst_desc(), false, true);
}

template <class K>
void build_backward_data_as(Plan& p) {
  const Geometry& g = p.geo;
  typename K::BwdData::desc d(K::alg, any(g.src), any(g.wei), any(g.dst), g.strides, g.dilates, g.pad_l, g.pad_r);
  typename K::BwdData::primitive_desc pd(d, cpu_engine(), *K::hint(p));
  p.bwd_data = typename K::BwdData(pd);
  p.bd_ddst.bind(plain(g.dst), pd.diff_dst_desc(), true, false);
  p.bd_wei.bind(user_weights(g), pd.weights_desc(), true, false);
  p.bd_dsrc.bind(plain(g.src), pd.diff_src_desc(), false, true);
  p.bd_built = true;
}

// With the bias gradient when the convolution has a bias.
template <class K>
void build_backward_weights_as(Plan& p) {
  const Geometry& g = p.geo;
  typename K::BwdWeights::desc d(K::alg, any(g.src), any(g.wei), g.has_bias ? p.bias_md : memory::desc(), any(g.dst),
                                 g.strides, g.dilates, g.pad_l, g.pad_r);
  typename K::BwdWeights::primitive_desc pd(d, cpu_engine(), *K::hint(p));
  p.bwd_weights = typename K::BwdWeights(pd);
  p.bw_src.bind(plain(g.src), pd.src_desc(), true, false);
  p.bw_ddst.bind(plain(g.dst), pd.diff_dst_desc(), true, false);
  p.bw_dwei.bind(user_weights(g), pd.diff_weights_desc(), false, true);
  if (g.has_bias) p.bw_dbias.bind(p.bias_md, pd.diff_bias_desc(), false, true);
  p.bw_built = true;
}

void build_forward(Plan& p) { p.geo.transposed ? build_forward_as<DeconvKind>(p) : build_forward_as<ConvKind>(p); }
void build_backward_data(Plan& p) {
  p.geo.transposed ? build_backward_data_as<DeconvKind>(p) : build_backward_data_as<ConvKind>(p);
}
void build_backward_weights(Plan& p) {
  p.geo.transposed ? build_backward_weights_as<DeconvKind>(p) : build_backward_weights_as<ConvKind>(p);
}

std::mutex& plans_mutex() {
  static std::mutex m;
  return m;
}

// Plans by geometry. Bounded: a run sees a handful of shapes; a stream of new ones (e.g. every batch size of a
// validation sweep) must not grow without limit.
std::map<Key, std::shared_ptr<Plan>>& plans() {
  static std::map<Key, std::shared_ptr<Plan>> m;
  return m;
}
constexpr size_t kMaxPlans = 512;

std::shared_ptr<Plan> plan_for(const ConvGeom& c, int64_t N, int64_t other, bool transposed, bool has_bias) {
  const Geometry geo = describe(c, N, other, transposed, has_bias);
  const Key k = key_of(geo);
  std::lock_guard<std::mutex> lock(plans_mutex());
  auto& m = plans();
  if (auto it = m.find(k); it != m.end()) return it->second;
  if (m.size() >= kMaxPlans) m.clear();
  auto p = std::make_shared<Plan>();
  p->geo = geo;
  try {
    build_forward(*p);
    p->ok = true;
  } catch (const dnnl::error&) {
    p->ok = false;  // oneDNN has no implementation for this geometry: im2col takes it
  }
  m.emplace(k, p);
  return p;
}

// The plan for a call that usable() accepted.
std::shared_ptr<Plan> plan_checked(const ConvGeom& c, int64_t N, int64_t other, bool transposed, bool has_bias,
                                   const char* op) {
  auto p = plan_for(c, N, other, transposed, has_bias);
  SEG_CHECK(p && p->ok, op, ": oneDNN path called for a geometry it does not support (call usable() first)");
  return p;
}

// db[c] = Σ over samples and positions of dy[n, c, ...], accumulated in double.
void bias_gradient(const Tensor& dy, Tensor& db) {
  const int64_t N = dy.size(0), C = dy.size(1), L = dy.numel() / (N * C);
  const float* g = dy.data<float>();
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < L; ++i) sum += g[(n * C + c) * L + i];
    db.data<float>()[c] = static_cast<float>(sum);
  }
}

template <class F>
void guarded(const char* op, F body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    SEG_CHECK(false, op, ": oneDNN failed: ", e.what(), " (status ", static_cast<int>(e.status), ")");
  }
}

void forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& c, int64_t other,
             bool transposed, const char* op) {
  auto p = plan_checked(c, x.size(0), other, transposed, b.defined(), op);
  ++call_count();
  guarded(op, [&] {
    dnnl::stream s(cpu_engine());
    Staging st;
    std::unordered_map<int, memory> args;
    args.insert({DNNL_ARG_SRC, st.input(s, p->f_src, x.data<float>())});
    args.insert({DNNL_ARG_WEIGHTS, st.input(s, p->f_wei, w.data<float>())});
    if (b.defined()) args.insert({DNNL_ARG_BIAS, memory(p->bias_md, cpu_engine(), const_cast<float*>(b.data<float>()))});
    memory dst = st.output(p->f_dst, y.data<float>());
    args.insert({DNNL_ARG_DST, dst});
    p->fwd->execute(s, args);
    st.finish_output(s, p->f_dst, dst, y.data<float>());
    s.wait();
  });
}

void backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
              const ConvGeom& c, int64_t other, bool transposed, bool has_bias, const char* op) {
  auto p = plan_checked(c, dy.size(0), other, transposed, has_bias, op);
  ++call_count();
  guarded(op, [&] {
    dnnl::stream s(cpu_engine());
    Staging st;
    if (dx.defined()) {
      {
        std::lock_guard<std::mutex> lock(plans_mutex());
        if (!p->bd_built) build_backward_data(*p);
      }
      std::unordered_map<int, memory> args;
      args.insert({DNNL_ARG_DIFF_DST, st.input(s, p->bd_ddst, dy.data<float>())});
      args.insert({DNNL_ARG_WEIGHTS, st.input(s, p->bd_wei, w.data<float>())});
      memory dsrc = st.output(p->bd_dsrc, dx.data<float>());
      args.insert({DNNL_ARG_DIFF_SRC, dsrc});
      p->bwd_data->execute(s, args);
      st.finish_output(s, p->bd_dsrc, dsrc, dx.data<float>());
    }
    if (dw.defined()) {
      // oneDNN computes the bias gradient together with the weight gradient; an unwanted one goes to scratch space
      {
        std::lock_guard<std::mutex> lock(plans_mutex());
        if (!p->bw_built) build_backward_weights(*p);
      }
      Tensor db_buf = db.defined() ? db : (has_bias ? Tensor::empty({p->geo.dst_c}, DType::Float32) : Tensor());
      std::unordered_map<int, memory> args;
      args.insert({DNNL_ARG_SRC, st.input(s, p->bw_src, x.data<float>())});
      args.insert({DNNL_ARG_DIFF_DST, st.input(s, p->bw_ddst, dy.data<float>())});
      memory dwm = st.output(p->bw_dwei, dw.data<float>());
      args.insert({DNNL_ARG_DIFF_WEIGHTS, dwm});
      std::optional<memory> dbm;
      if (has_bias) {
        dbm = st.output(p->bw_dbias, db_buf.data<float>());
        args.insert({DNNL_ARG_DIFF_BIAS, *dbm});
      }
      p->bwd_weights->execute(s, args);
      st.finish_output(s, p->bw_dwei, dwm, dw.data<float>());
      if (has_bias) st.finish_output(s, p->bw_dbias, *dbm, db_buf.data<float>());
    } else if (db.defined()) {
      bias_gradient(dy, db);  // the input was not kept (no weight gradient), and the bias gradient needs none
    }
    s.wait();
  });
}

}  // namespace

bool usable(const ConvGeom& g, int64_t N, int64_t other, bool transposed, DType dtype, bool has_bias) {
  if (!enabled() || dtype != DType::Float32 || g.reflect) return false;
  if (N <= 0 || other <= 0 || g.C <= 0 || g.cols() <= 0 || g.image_size() <= 0) return false;
  auto p = plan_for(g, N, other, transposed, has_bias);
  return p && p->ok;
}

void conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g, int64_t cout) {
  forward(x, w, b, y, g, cout, false, "conv (oneDNN)");
}
void conv_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                   const ConvGeom& g, int64_t cout, bool has_bias) {
  backward(x, w, dy, dx, dw, db, g, cout, false, has_bias, "conv backward (oneDNN)");
}
void conv_transpose_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, const ConvGeom& g,
                            int64_t cin) {
  forward(x, w, b, y, g, cin, true, "conv_transpose (oneDNN)");
}
void conv_transpose_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db,
                             const ConvGeom& g, int64_t cin, bool has_bias) {
  backward(x, w, dy, dx, dw, db, g, cin, true, has_bias, "conv_transpose backward (oneDNN)");
}

#endif  // SEG_WITH_ONEDNN

}  // namespace seg::onednn
