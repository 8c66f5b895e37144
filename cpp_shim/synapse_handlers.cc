// XLA typed-FFI handlers of the event-driven synapse (src/synapse/): they
// decode and check the buffers, dispatch on dtype, and run the Rust kernels
// (src/bridge_synapse.rs) over XLA's intra-op thread pool.
//
//   spikegrad_spike_matmul(s[..., n_in], w[n_in, n_out]) -> y[..., n_out]
//       y = s @ w, reading only the nonzero spikes; split over batch rows.
//   spikegrad_spike_matmul_wgrad(s[..., n_in], ct[..., n_out]) -> dw[n_in, n_out]
//       dw = s^T @ ct, adding ct's rows into the rows of the spiking inputs;
//       split over dw's rows.
//
// All operands and the result share one dtype: float32, float64, float16 or
// bfloat16 (halves accumulate in float32). Every output element is summed by
// one thread in a fixed order: the same bits for every thread count.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "spikegrad/cpp_shim/parallel.h"
#include "spikegrad/src/bridge_synapse.rs.h"
#include "spikegrad/cpp_shim/ffi_util.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace spikegrad {
namespace {

// The least work (multiply-adds, or spikes scanned) worth another thread; a
// pool task costs a few microseconds to start (docs/perf.md, "Threads").
constexpr int64_t kMinSynapseWork = 1 << 13;
// Weight-gradient blocks are whole multiples of this many weight rows.
constexpr int64_t kMinWgradRows = 64;

// 0 f32, 1 f64, 2 f16, 3 bf16; -1 for any other dtype.
int DtypeCode(ffi::DataType t) {
  switch (t) {
    case ffi::DataType::F32: return 0;
    case ffi::DataType::F64: return 1;
    case ffi::DataType::F16: return 2;
    case ffi::DataType::BF16: return 3;
    default: return -1;
  }
}

ffi::Error CheckDtypes(std::string_view op, const ffi::AnyBuffer& a,
                       const ffi::AnyBuffer& b, const ffi::AnyBuffer& out) {
  if (DtypeCode(a.element_type()) < 0) {
    return Invalid(op, "unsupported dtype (XLA dtype #" +
                           std::to_string(static_cast<int>(a.element_type())) +
                           "); supported: float16, bfloat16, float32, float64");
  }
  if (b.element_type() != a.element_type() ||
      out.element_type() != a.element_type()) {
    return Invalid(op, "operands and result must share one dtype");
  }
  return ffi::Error::Success();
}

// Runs body(first, last) over [0, units) on the pool with at least
// `min_units` per chunk. ParallelLoop aligns chunks to kChunkAlign elements,
// so each unit counts as kChunkAlign of its elements: chunks stay whole units
// and are not rounded up to 64 of them.
template <typename Body>
std::string Units(ffi::ThreadPool& pool, int64_t units, int64_t min_units,
                  const Body& body) {
  return ParallelLoop::Run(
      pool, units * kChunkAlign, std::max<int64_t>(1, min_units) * kChunkAlign,
      [&](int64_t b, int64_t e) { body(b / kChunkAlign, e / kChunkAlign); });
}

ffi::Error ForwardImpl(ffi::ThreadPool pool, ffi::AnyBuffer s, ffi::AnyBuffer w,
                       ffi::Result<ffi::AnyBuffer> y) {
  constexpr std::string_view kOp = "spike_matmul";
  if (auto err = CheckDtypes(kOp, s, w, *y); err.failure()) return err;
  auto wd = w.dimensions();
  if (wd.size() != 2) return Invalid(kOp, "the weight must be 2-D");
  int64_t n_in = wd[0], n_out = wd[1];
  int64_t count = static_cast<int64_t>(s.element_count());
  int64_t rows = n_in > 0 ? count / n_in
                 : n_out > 0 ? static_cast<int64_t>(y->element_count()) / n_out
                             : 0;
  if (rows * n_in != count ||
      rows * n_out != static_cast<int64_t>(y->element_count())) {
    return Invalid(kOp, "spikes of " + std::to_string(count) +
                            " elements and a result of " +
                            std::to_string(y->element_count()) +
                            " do not fit a [" + std::to_string(n_in) + ", " +
                            std::to_string(n_out) + "] weight");
  }
  if (rows == 0 || n_out == 0) return ffi::Error::Success();
  int64_t min_rows = kMinSynapseWork / std::max<int64_t>(1, n_in + n_out);
  // Each call reads all of W: at most one chunk of rows per thread (the
  // caller included), not several, or W is read that many times over.
  if (rows >= 2 * min_rows) {
    int64_t threads = std::max<int64_t>(1, pool.num_threads());
    min_rows = std::max(min_rows, (rows + threads) / (threads + 1));
  }
  int code = DtypeCode(s.element_type());
  auto run = [&](auto body) {
    return Finish(kOp, Units(pool, rows, min_rows, body));
  };
  auto span = [&](int64_t r0, int64_t r1, int64_t cols) {
    return std::pair<int64_t, int64_t>(r0 * cols, r1 * cols);
  };
  switch (code) {
    case 0:
      return run([&](int64_t r0, int64_t r1) {
        auto [a, b] = span(r0, r1, n_in);
        auto [c, d] = span(r0, r1, n_out);
        spike_matmul_f32(In<float>(s, a, b), In<float>(w, 0, n_in * n_out),
                         Out<float>(*y, c, d), r1 - r0, n_in, n_out);
      });
    case 1:
      return run([&](int64_t r0, int64_t r1) {
        auto [a, b] = span(r0, r1, n_in);
        auto [c, d] = span(r0, r1, n_out);
        spike_matmul_f64(In<double>(s, a, b), In<double>(w, 0, n_in * n_out),
                         Out<double>(*y, c, d), r1 - r0, n_in, n_out);
      });
    default:
      return run([&](int64_t r0, int64_t r1) {
        auto [a, b] = span(r0, r1, n_in);
        auto [c, d] = span(r0, r1, n_out);
        spike_matmul_half(static_cast<uint8_t>(code), In<uint16_t>(s, a, b),
                          In<uint16_t>(w, 0, n_in * n_out),
                          Out<uint16_t>(*y, c, d), r1 - r0, n_in, n_out);
      });
  }
}

ffi::Error WgradImpl(ffi::ThreadPool pool, ffi::AnyBuffer s, ffi::AnyBuffer ct,
                     ffi::Result<ffi::AnyBuffer> dw) {
  constexpr std::string_view kOp = "spike_matmul_wgrad";
  if (auto err = CheckDtypes(kOp, s, ct, *dw); err.failure()) return err;
  auto od = dw->dimensions();
  if (od.size() != 2) return Invalid(kOp, "the weight gradient must be 2-D");
  int64_t n_in = od[0], n_out = od[1];
  int64_t count = static_cast<int64_t>(s.element_count());
  int64_t ct_count = static_cast<int64_t>(ct.element_count());
  int64_t batch = n_in > 0 ? count / n_in : n_out > 0 ? ct_count / n_out : 0;
  if (batch * n_in != count || batch * n_out != ct_count) {
    return Invalid(kOp, "spikes of " + std::to_string(count) +
                            " elements and a cotangent of " +
                            std::to_string(ct_count) + " do not fit a [" +
                            std::to_string(n_in) + ", " +
                            std::to_string(n_out) + "] weight");
  }
  if (n_in == 0 || n_out == 0) return ffi::Error::Success();
  // Blocks of kMinWgradRows weight rows; enough of them to scan
  // kMinSynapseWork spikes each.
  int64_t blocks = (n_in + kMinWgradRows - 1) / kMinWgradRows;
  int64_t min_blocks =
      kMinSynapseWork / std::max<int64_t>(1, kMinWgradRows * batch);
  int code = DtypeCode(s.element_type());
  auto run = [&](auto body) {
    return Finish(kOp, Units(pool, blocks, min_blocks, [&](int64_t b0,
                                                           int64_t b1) {
      int64_t i0 = b0 * kMinWgradRows;
      int64_t i1 = std::min(n_in, b1 * kMinWgradRows);
      body(i0, i1);
    }));
  };
  switch (code) {
    case 0:
      return run([&](int64_t i0, int64_t i1) {
        spike_matmul_wgrad_f32(In<float>(s, 0, count), In<float>(ct, 0, ct_count),
                               Out<float>(*dw, i0 * n_out, i1 * n_out), batch,
                               n_in, n_out, i0);
      });
    case 1:
      return run([&](int64_t i0, int64_t i1) {
        spike_matmul_wgrad_f64(In<double>(s, 0, count),
                               In<double>(ct, 0, ct_count),
                               Out<double>(*dw, i0 * n_out, i1 * n_out), batch,
                               n_in, n_out, i0);
      });
    default:
      return run([&](int64_t i0, int64_t i1) {
        spike_matmul_wgrad_half(static_cast<uint8_t>(code),
                                In<uint16_t>(s, 0, count),
                                In<uint16_t>(ct, 0, ct_count),
                                Out<uint16_t>(*dw, i0 * n_out, i1 * n_out),
                                batch, n_in, n_out, i0);
      });
  }
}

ffi::Error Forward(ffi::ThreadPool pool, ffi::AnyBuffer s, ffi::AnyBuffer w,
                   ffi::Result<ffi::AnyBuffer> y) {
  return Guard("spike_matmul", [&] { return ForwardImpl(pool, s, w, y); });
}

ffi::Error Wgrad(ffi::ThreadPool pool, ffi::AnyBuffer s, ffi::AnyBuffer ct,
                 ffi::Result<ffi::AnyBuffer> dw) {
  return Guard("spike_matmul_wgrad",
               [&] { return WgradImpl(pool, s, ct, dw); });
}

}  // namespace
}  // namespace spikegrad

XLA_FFI_DEFINE_HANDLER_SYMBOL(spikegrad_spike_matmul, spikegrad::Forward,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(spikegrad_spike_matmul_wgrad, spikegrad::Wgrad,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>());
