// Small pieces every FFI handler file uses: the error results (messages
// start with "spikegrad <op>: ", which the Python tests match) and the
// rust::Slice views of a buffer's element range that the bridges take.

#ifndef SPIKEGRAD_CPP_SHIM_FFI_UTIL_H_
#define SPIKEGRAD_CPP_SHIM_FFI_UTIL_H_

#include <cstddef>
#include <cstdint>
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

#endif  // SPIKEGRAD_CPP_SHIM_FFI_UTIL_H_
