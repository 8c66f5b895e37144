// XLA typed-FFI handlers for spikegrad. This file only decodes buffers and
// attributes, checks them, dispatches on dtype, and calls the Rust kernels
// (src/bridge.rs) over XLA's intra-op thread pool. The math lives in Rust.
//
// Targets (registered for the CPU platform by python/spikegrad/_ffi.py):
//   spikegrad_heaviside(x) -> y                    y = (x >= 0)
//   spikegrad_surrogate_grad(x, t) -> y            y = t * g'(x)
//       attrs: surrogate (string), params (f64 array)

#include <cstdint>
#include <string>
#include <string_view>

#include "spikegrad/cpp_shim/kernel_cache.h"
#include "spikegrad/cpp_shim/parallel.h"
#include "spikegrad/src/bridge.rs.h"
#include "spikegrad/cpp_shim/ffi_util.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace spikegrad {
namespace {

std::string DtypeName(ffi::DataType t) {
  switch (t) {
    case ffi::DataType::F16: return "float16";
    case ffi::DataType::BF16: return "bfloat16";
    case ffi::DataType::F32: return "float32";
    case ffi::DataType::F64: return "float64";
    case ffi::DataType::PRED: return "bool";
    case ffi::DataType::S8: return "int8";
    case ffi::DataType::S16: return "int16";
    case ffi::DataType::S32: return "int32";
    case ffi::DataType::S64: return "int64";
    case ffi::DataType::U8: return "uint8";
    case ffi::DataType::U16: return "uint16";
    case ffi::DataType::U32: return "uint32";
    case ffi::DataType::U64: return "uint64";
    case ffi::DataType::C64: return "complex64";
    case ffi::DataType::C128: return "complex128";
    default: return "XLA dtype #" + std::to_string(static_cast<int>(t));
  }
}

ffi::Error Unsupported(std::string_view op, ffi::DataType t) {
  return ffi::Error::InvalidArgument(
      std::string("spikegrad ") + std::string(op) + ": unsupported dtype " +
      DtypeName(t) + "; supported: float16, bfloat16, float32, float64");
}

// Every operand and the result must share dtype and element count.
ffi::Error CheckSame(std::string_view op, const ffi::AnyBuffer& a,
                     const ffi::AnyBuffer& b, std::string_view b_name) {
  if (a.element_type() != b.element_type()) {
    return ffi::Error::InvalidArgument(
        std::string("spikegrad ") + std::string(op) + ": " +
        std::string(b_name) + " dtype " + DtypeName(b.element_type()) +
        " differs from x dtype " + DtypeName(a.element_type()));
  }
  if (a.element_count() != b.element_count()) {
    return ffi::Error::InvalidArgument(
        std::string("spikegrad ") + std::string(op) + ": " +
        std::string(b_name) + " has " + std::to_string(b.element_count()) +
        " elements, x has " + std::to_string(a.element_count()));
  }
  return ffi::Error::Success();
}

ffi::Error HeavisideImpl(ffi::ThreadPool pool, ffi::AnyBuffer x,
                         ffi::Result<ffi::AnyBuffer> y) {
  constexpr std::string_view kOp = "heaviside";
  if (auto err = CheckSame(kOp, x, *y, "output"); err.failure()) return err;
  int64_t n = static_cast<int64_t>(x.element_count());
  if (n == 0) return ffi::Error::Success();
  auto run = [&](auto body) {
    return Finish(kOp, ParallelLoop::Run(pool, n, kMinStepChunk, body));
  };
  switch (x.element_type()) {
    case ffi::DataType::F32:
      return run([&](int64_t b, int64_t e) {
        heaviside_f32(In<float>(x, b, e), Out<float>(*y, b, e));
      });
    case ffi::DataType::F64:
      return run([&](int64_t b, int64_t e) {
        heaviside_f64(In<double>(x, b, e), Out<double>(*y, b, e));
      });
    case ffi::DataType::F16:
      return run([&](int64_t b, int64_t e) {
        heaviside_f16(In<uint16_t>(x, b, e), Out<uint16_t>(*y, b, e));
      });
    case ffi::DataType::BF16:
      return run([&](int64_t b, int64_t e) {
        heaviside_bf16(In<uint16_t>(x, b, e), Out<uint16_t>(*y, b, e));
      });
    default:
      return Unsupported(kOp, x.element_type());
  }
}

ffi::Error SurrogateGradImpl(ffi::ThreadPool pool, ffi::AnyBuffer x,
                             ffi::AnyBuffer t, ffi::Result<ffi::AnyBuffer> y,
                             std::string_view surrogate,
                             ffi::Span<const double> params) {
  constexpr std::string_view kOp = "surrogate_grad";
  if (auto err = CheckSame(kOp, x, t, "tangent"); err.failure()) return err;
  if (auto err = CheckSame(kOp, x, *y, "output"); err.failure()) return err;

  // Validated once per (surrogate, params) and thread, then cached.
  const FusedGrad& k =
      KernelCache::Get(surrogate, params.begin(), params.size());

  int64_t n = static_cast<int64_t>(x.element_count());
  if (n == 0) return ffi::Error::Success();
  auto run = [&](auto body) {
    return Finish(kOp, ParallelLoop::Run(pool, n, kMinGradChunk, body));
  };
  switch (x.element_type()) {
    case ffi::DataType::F32:
      return run([&](int64_t b, int64_t e) {
        grad_f32(k, In<float>(x, b, e), In<float>(t, b, e),
                 Out<float>(*y, b, e));
      });
    case ffi::DataType::F64:
      return run([&](int64_t b, int64_t e) {
        grad_f64(k, In<double>(x, b, e), In<double>(t, b, e),
                 Out<double>(*y, b, e));
      });
    case ffi::DataType::F16:
      return run([&](int64_t b, int64_t e) {
        grad_f16(k, In<uint16_t>(x, b, e), In<uint16_t>(t, b, e),
                 Out<uint16_t>(*y, b, e));
      });
    case ffi::DataType::BF16:
      return run([&](int64_t b, int64_t e) {
        grad_bf16(k, In<uint16_t>(x, b, e), In<uint16_t>(t, b, e),
                  Out<uint16_t>(*y, b, e));
      });
    default:
      return Unsupported(kOp, x.element_type());
  }
}

ffi::Error Heaviside(ffi::ThreadPool pool, ffi::AnyBuffer x,
                     ffi::Result<ffi::AnyBuffer> y) {
  return Guard("heaviside", [&] { return HeavisideImpl(pool, x, y); });
}

ffi::Error SurrogateGrad(ffi::ThreadPool pool, ffi::AnyBuffer x,
                         ffi::AnyBuffer t, ffi::Result<ffi::AnyBuffer> y,
                         std::string_view surrogate,
                         ffi::Span<const double> params) {
  return Guard("surrogate_grad", [&] {
    return SurrogateGradImpl(pool, x, t, y, surrogate, params);
  });
}

}  // namespace
}  // namespace spikegrad

XLA_FFI_DEFINE_HANDLER_SYMBOL(spikegrad_heaviside, spikegrad::Heaviside,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(spikegrad_surrogate_grad,
                              spikegrad::SurrogateGrad,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<std::string_view>("surrogate")
                                  .Attr<ffi::Span<const double>>("params"));
