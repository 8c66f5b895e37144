// XLA typed-FFI handlers of the fused LIF neuron (src/neurons/lif.rs). They
// decode buffers and attributes, check shapes and dtypes, and run the Rust
// kernels (src/bridge_lif.rs) over XLA's intra-op thread pool by blocks of
// neurons: every neuron's time loop is independent of the others.
//
// Buffers are time-major: x, v, spikes and their tangents/cotangents are
// [T, *shape]; v0 and its tangent/cotangent are [*shape]. All are float32 or
// float64 (the Python layer widens half precision first).
//
//   spikegrad_lif_forward(x, v0) -> (spikes, v)   v: [T, *shape] or [0] (not kept)
//   spikegrad_lif_tangent(v, v0, dx, dv0) -> (dspikes, dv)
//   spikegrad_lif_bptt(v, v0, ct_spikes, ct_v) -> (ct_x, ct_v0)
//       ct_v is ignored (a zero cotangent) unless has_ct_v.
//   attrs: surrogate (string), params (f64 array), lif (f64 array:
//          decay, bias, drive, V_th, V_reset), hard_reset (bool)

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spikegrad/cpp_shim/parallel.h"
#include "spikegrad/src/bridge_lif.rs.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace spikegrad {
namespace {

// Smallest neuron block handed to another thread, in neuron-steps: the LIF
// passes cost ~1-3 ns per neuron and step, so 2^15 of them outlast a pool
// task's start-up several times (docs/perf.md, "Fused LIF").
constexpr int64_t kMinLifWork = 1 << 15;

// Per-thread cache of built kernels (same reasoning as kernel_cache.h).
class LifCache {
 public:
  static const LifFused& Get(std::string_view surrogate,
                             ffi::Span<const double> params,
                             ffi::Span<const double> lif, bool hard) {
    thread_local LifCache cache;
    return cache.Lookup(surrogate, params, lif, hard);
  }

 private:
  static constexpr size_t kEntries = 4;
  struct Entry {
    std::string surrogate;
    std::vector<double> params, lif;
    bool hard = false;
    std::optional<rust::Box<LifFused>> kernel;
  };

  static bool Same(const std::vector<double>& a, ffi::Span<const double> b) {
    return a.size() == b.size() &&
           (a.empty() || std::memcmp(a.data(), b.begin(),
                                     a.size() * sizeof(double)) == 0);
  }

  const LifFused& Lookup(std::string_view s, ffi::Span<const double> p,
                         ffi::Span<const double> l, bool hard) {
    for (const Entry& e : entries_) {
      if (e.kernel && e.surrogate == s && e.hard == hard && Same(e.params, p) &&
          Same(e.lif, l)) {
        return **e.kernel;
      }
    }
    static const double kNone = 0.0;
    rust::Box<LifFused> built = new_lif(
        rust::Str(s.data(), s.size()),
        rust::Slice<const double>(p.size() ? p.begin() : &kNone, p.size()),
        rust::Slice<const double>(l.size() ? l.begin() : &kNone, l.size()),
        hard);
    Entry& slot = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    slot.surrogate.assign(s.data(), s.size());
    slot.params.assign(p.begin(), p.end());
    slot.lif.assign(l.begin(), l.end());
    slot.hard = hard;
    slot.kernel.emplace(std::move(built));
    return **slot.kernel;
  }

  std::array<Entry, kEntries> entries_;
  size_t next_ = 0;
};

ffi::Error Invalid(std::string_view op, const std::string& msg) {
  return ffi::Error::InvalidArgument("spikegrad " + std::string(op) + ": " +
                                     msg);
}

// Steps and neurons from a time-major sequence buffer and a state buffer. The
// steps come from the element counts, not from the first dimension: a
// partitioned call sees the sequence as a [*shape, T] view whose layout keeps
// the memory time-major (python/spikegrad/_partitioned_ffi.py).
struct Shape {
  int64_t steps = 0, n = 0;
};
std::optional<std::string> ShapeOf(const ffi::AnyBuffer& seq,
                                   const ffi::AnyBuffer& state, Shape* out) {
  auto dims = seq.dimensions();
  if (dims.size() < 1) return "the sequence operand must have a time axis";
  out->n = static_cast<int64_t>(state.element_count());
  out->steps = out->n > 0
                   ? static_cast<int64_t>(seq.element_count()) / out->n
                   : dims[0];
  if (static_cast<int64_t>(seq.element_count()) != out->steps * out->n) {
    return "sequence has " + std::to_string(seq.element_count()) +
           " elements, expected steps " + std::to_string(out->steps) +
           " x neurons " + std::to_string(out->n);
  }
  if (dims[0] != out->steps && dims[dims.size() - 1] != out->steps) {
    return "the sequence's first or last dimension must be its " +
           std::to_string(out->steps) + " steps";
  }
  return std::nullopt;
}

std::optional<std::string> SameType(
    std::initializer_list<const ffi::AnyBuffer*> bufs) {
  ffi::DataType t = (*bufs.begin())->element_type();
  if (t != ffi::DataType::F32 && t != ffi::DataType::F64) {
    return "operands must be float32 or float64";
  }
  for (const ffi::AnyBuffer* b : bufs) {
    if (b->element_type() != t) return "operand dtypes differ";
  }
  return std::nullopt;
}

std::optional<std::string> Count(const ffi::AnyBuffer& b, int64_t expected,
                                 const char* name) {
  if (static_cast<int64_t>(b.element_count()) != expected) {
    return std::string(name) + " has " + std::to_string(b.element_count()) +
           " elements, expected " + std::to_string(expected);
  }
  return std::nullopt;
}

template <typename T>
const T* P(const ffi::AnyBuffer& b) {
  return static_cast<const T*>(b.untyped_data());
}
template <typename T>
T* M(ffi::AnyBuffer& b) {
  return static_cast<T*>(b.untyped_data());
}

// Run body(begin, end) over neuron blocks on the pool.
template <typename Body>
ffi::Error Columns(std::string_view op, ffi::ThreadPool& pool, Shape s,
                   const Body& body) {
  if (s.n == 0) return ffi::Error::Success();
  int64_t min_chunk =
      std::max<int64_t>(kChunkAlign, kMinLifWork / std::max<int64_t>(1, s.steps));
  std::string err = ParallelLoop::Run(pool, s.n, min_chunk, body);
  if (err.empty()) return ffi::Error::Success();
  return ffi::Error::Internal("spikegrad " + std::string(op) + ": " + err);
}

#define SPIKEGRAD_CHECK(expr)                             \
  if (auto msg = (expr); msg.has_value()) return Invalid(kOp, *msg)

ffi::Error ForwardImpl(ffi::ThreadPool pool, ffi::AnyBuffer x,
                       ffi::AnyBuffer v0, ffi::Result<ffi::AnyBuffer> spikes,
                       ffi::Result<ffi::AnyBuffer> v,
                       std::string_view surrogate,
                       ffi::Span<const double> params,
                       ffi::Span<const double> lif, bool hard_reset) {
  constexpr std::string_view kOp = "lif_forward";
  Shape s;
  SPIKEGRAD_CHECK(ShapeOf(x, v0, &s));
  SPIKEGRAD_CHECK(SameType({&x, &v0, &*spikes, &*v}));
  SPIKEGRAD_CHECK(Count(*spikes, s.steps * s.n, "spikes"));
  // v may be empty: the potentials are then not written (a forward pass
  // that no derivative needs).
  bool keep_v = v->element_count() != 0 || s.steps * s.n == 0;
  if (keep_v) SPIKEGRAD_CHECK(Count(*v, s.steps * s.n, "v"));
  const LifFused& k = LifCache::Get(surrogate, params, lif, hard_reset);
  if (s.steps == 0) return ffi::Error::Success();
  size_t T = s.steps, N = s.n;
  if (x.element_type() == ffi::DataType::F32) {
    return Columns(kOp, pool, s, [&](int64_t b, int64_t e) {
      lif_forward_f32(k, T, N, b, e, P<float>(x), P<float>(v0),
                      M<float>(*spikes), keep_v ? M<float>(*v) : nullptr);
    });
  }
  return Columns(kOp, pool, s, [&](int64_t b, int64_t e) {
    lif_forward_f64(k, T, N, b, e, P<double>(x), P<double>(v0),
                    M<double>(*spikes), keep_v ? M<double>(*v) : nullptr);
  });
}

ffi::Error TangentImpl(ffi::ThreadPool pool, ffi::AnyBuffer v,
                       ffi::AnyBuffer v0, ffi::AnyBuffer dx, ffi::AnyBuffer dv0,
                       ffi::Result<ffi::AnyBuffer> dspikes,
                       ffi::Result<ffi::AnyBuffer> dv,
                       std::string_view surrogate,
                       ffi::Span<const double> params,
                       ffi::Span<const double> lif, bool hard_reset) {
  constexpr std::string_view kOp = "lif_tangent";
  Shape s;
  SPIKEGRAD_CHECK(ShapeOf(v, v0, &s));
  SPIKEGRAD_CHECK(SameType({&v, &v0, &dx, &dv0, &*dspikes, &*dv}));
  SPIKEGRAD_CHECK(Count(dx, s.steps * s.n, "dx"));
  SPIKEGRAD_CHECK(Count(dv0, s.n, "dv0"));
  SPIKEGRAD_CHECK(Count(*dspikes, s.steps * s.n, "dspikes"));
  SPIKEGRAD_CHECK(Count(*dv, s.steps * s.n, "dv"));
  const LifFused& k = LifCache::Get(surrogate, params, lif, hard_reset);
  if (s.steps == 0) return ffi::Error::Success();
  size_t T = s.steps, N = s.n;
  if (v.element_type() == ffi::DataType::F32) {
    return Columns(kOp, pool, s, [&](int64_t b, int64_t e) {
      lif_tangent_f32(k, T, N, b, e, P<float>(v), P<float>(v0), P<float>(dx),
                      P<float>(dv0), M<float>(*dspikes), M<float>(*dv));
    });
  }
  return Columns(kOp, pool, s, [&](int64_t b, int64_t e) {
    lif_tangent_f64(k, T, N, b, e, P<double>(v), P<double>(v0), P<double>(dx),
                    P<double>(dv0), M<double>(*dspikes), M<double>(*dv));
  });
}

ffi::Error BpttImpl(ffi::ThreadPool pool, ffi::AnyBuffer v, ffi::AnyBuffer v0,
                    ffi::AnyBuffer ct_spikes, ffi::AnyBuffer ct_v,
                    ffi::Result<ffi::AnyBuffer> ct_x,
                    ffi::Result<ffi::AnyBuffer> ct_v0,
                    std::string_view surrogate,
                    ffi::Span<const double> params,
                    ffi::Span<const double> lif, bool hard_reset,
                    bool has_ct_v) {
  constexpr std::string_view kOp = "lif_bptt";
  Shape s;
  SPIKEGRAD_CHECK(ShapeOf(v, v0, &s));
  SPIKEGRAD_CHECK(SameType({&v, &v0, &ct_spikes, &ct_v, &*ct_x, &*ct_v0}));
  SPIKEGRAD_CHECK(Count(ct_spikes, s.steps * s.n, "ct_spikes"));
  if (has_ct_v) SPIKEGRAD_CHECK(Count(ct_v, s.steps * s.n, "ct_v"));
  SPIKEGRAD_CHECK(Count(*ct_x, s.steps * s.n, "ct_x"));
  SPIKEGRAD_CHECK(Count(*ct_v0, s.n, "ct_v0"));
  const LifFused& k = LifCache::Get(surrogate, params, lif, hard_reset);
  if (s.steps == 0) {  // v0 does not reach any output
    if (s.n) std::memset(ct_v0->untyped_data(), 0, ct_v0->size_bytes());
    return ffi::Error::Success();
  }
  size_t T = s.steps, N = s.n;
  if (v.element_type() == ffi::DataType::F32) {
    const float* ctv = has_ct_v ? P<float>(ct_v) : nullptr;
    return Columns(kOp, pool, s, [&](int64_t b, int64_t e) {
      lif_bptt_f32(k, T, N, b, e, P<float>(v), P<float>(v0),
                   P<float>(ct_spikes), ctv, M<float>(*ct_x),
                   M<float>(*ct_v0));
    });
  }
  const double* ctv = has_ct_v ? P<double>(ct_v) : nullptr;
  return Columns(kOp, pool, s, [&](int64_t b, int64_t e) {
    lif_bptt_f64(k, T, N, b, e, P<double>(v), P<double>(v0),
                 P<double>(ct_spikes), ctv, M<double>(*ct_x),
                 M<double>(*ct_v0));
  });
}

#undef SPIKEGRAD_CHECK

// Exceptions (rust::Error, std::bad_alloc) never leave a handler.
template <typename F>
ffi::Error Guard(std::string_view op, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return ffi::Error::InvalidArgument("spikegrad " + std::string(op) + ": " +
                                       e.what());
  } catch (...) {
    return ffi::Error::Internal("spikegrad " + std::string(op) +
                                ": unknown C++ exception");
  }
}

ffi::Error Forward(ffi::ThreadPool pool, ffi::AnyBuffer x, ffi::AnyBuffer v0,
                   ffi::Result<ffi::AnyBuffer> spikes,
                   ffi::Result<ffi::AnyBuffer> v, std::string_view surrogate,
                   ffi::Span<const double> params, ffi::Span<const double> lif,
                   bool hard_reset) {
  return Guard("lif_forward", [&] {
    return ForwardImpl(pool, x, v0, spikes, v, surrogate, params, lif,
                       hard_reset);
  });
}

ffi::Error Tangent(ffi::ThreadPool pool, ffi::AnyBuffer v, ffi::AnyBuffer v0,
                   ffi::AnyBuffer dx, ffi::AnyBuffer dv0,
                   ffi::Result<ffi::AnyBuffer> dspikes,
                   ffi::Result<ffi::AnyBuffer> dv, std::string_view surrogate,
                   ffi::Span<const double> params, ffi::Span<const double> lif,
                   bool hard_reset) {
  return Guard("lif_tangent", [&] {
    return TangentImpl(pool, v, v0, dx, dv0, dspikes, dv, surrogate, params,
                       lif, hard_reset);
  });
}

ffi::Error Bptt(ffi::ThreadPool pool, ffi::AnyBuffer v, ffi::AnyBuffer v0,
                ffi::AnyBuffer ct_spikes, ffi::AnyBuffer ct_v,
                ffi::Result<ffi::AnyBuffer> ct_x,
                ffi::Result<ffi::AnyBuffer> ct_v0, std::string_view surrogate,
                ffi::Span<const double> params, ffi::Span<const double> lif,
                bool hard_reset, bool has_ct_v) {
  return Guard("lif_bptt", [&] {
    return BpttImpl(pool, v, v0, ct_spikes, ct_v, ct_x, ct_v0, surrogate,
                    params, lif, hard_reset, has_ct_v);
  });
}

}  // namespace
}  // namespace spikegrad

XLA_FFI_DEFINE_HANDLER_SYMBOL(spikegrad_lif_forward, spikegrad::Forward,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::string_view>("surrogate")
                                  .Attr<ffi::Span<const double>>("params")
                                  .Attr<ffi::Span<const double>>("lif")
                                  .Attr<bool>("hard_reset"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(spikegrad_lif_tangent, spikegrad::Tangent,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::string_view>("surrogate")
                                  .Attr<ffi::Span<const double>>("params")
                                  .Attr<ffi::Span<const double>>("lif")
                                  .Attr<bool>("hard_reset"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(spikegrad_lif_bptt, spikegrad::Bptt,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::string_view>("surrogate")
                                  .Attr<ffi::Span<const double>>("params")
                                  .Attr<ffi::Span<const double>>("lif")
                                  .Attr<bool>("hard_reset")
                                  .Attr<bool>("has_ct_v"));
