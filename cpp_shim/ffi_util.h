// Small pieces every FFI handler file uses: the error results (messages
// start with "spikegrad <op>: ", which the Python tests match), the guard
// that keeps exceptions inside a handler, the rust::Slice views of a
// buffer's element range that the bridges take, and the binding shared by
// the neuron passes.

#ifndef SPIKEGRAD_CPP_SHIM_FFI_UTIL_H_
#define SPIKEGRAD_CPP_SHIM_FFI_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "rust/cxx.h"
#include "xla/ffi/api/ffi.h"

namespace spikegrad {

// A bad operand or attribute: InvalidArgument.
inline xla::ffi::Error Invalid(std::string_view op, const std::string& msg) {
  return xla::ffi::Error::InvalidArgument("spikegrad " + std::string(op) +
                                          ": " + msg);
}

// A kernel's result: success for an empty error message, else Internal.
inline xla::ffi::Error Finish(std::string_view op, const std::string& error) {
  if (error.empty()) return xla::ffi::Error::Success();
  return xla::ffi::Error::Internal("spikegrad " + std::string(op) + ": " +
                                   error);
}

// Runs a handler's body; exceptions (rust::Error from bad input,
// std::bad_alloc) never leave the handler: they become an ffi::Error.
template <typename F>
xla::ffi::Error Guard(std::string_view op, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Invalid(op, e.what());
  } catch (...) {
    return xla::ffi::Error::Internal("spikegrad " + std::string(op) +
                                     ": unknown C++ exception");
  }
}

// Elements [begin, end) of a buffer, read-only or writable.
template <typename T>
rust::Slice<const T> In(const xla::ffi::AnyBuffer& b, int64_t begin,
                        int64_t end) {
  return {static_cast<const T*>(b.untyped_data()) + begin,
          static_cast<size_t>(end - begin)};
}

template <typename T>
rust::Slice<T> Out(xla::ffi::AnyBuffer& b, int64_t begin, int64_t end) {
  return {static_cast<T*>(b.untyped_data()) + begin,
          static_cast<size_t>(end - begin)};
}

}  // namespace spikegrad

// The binding of every neuron pass (neuron_handlers.cc,
// recurrent_handlers.cc): operands and results as lists, the model and the
// surrogate by name, their parameters, the reset and the checkpoint stride.
#define SPIKEGRAD_NEURON_BINDING()                              \
  ::xla::ffi::Ffi::Bind()                                       \
      .Ctx<::xla::ffi::ThreadPool>()                            \
      .RemainingArgs()                                          \
      .RemainingRets()                                          \
      .Attr<std::string_view>("model")                          \
      .Attr<std::string_view>("surrogate")                      \
      .Attr<::xla::ffi::Span<const double>>("params")           \
      .Attr<bool>("hard_reset")                                 \
      .Attr<int64_t>("stride")

#endif  // SPIKEGRAD_CPP_SHIM_FFI_UTIL_H_
