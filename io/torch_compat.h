#pragma once
// The one place where LibTorch releases differ in an API zoo uses (1.13 on Debian 12, 2.6 on
// Debian 13, the 2.x CUDA wheels; see docs/platforms.md). Everything else compiles unchanged.
#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

#include <utility>

namespace zoo::compat {

// c10d::TCPStoreOptions gained `useLibUV` in LibTorch 2.1-2.2 and it defaults to true since 2.4,
// but Debian's LibTorch is built without libuv, so a default TCPStore there throws "use_libuv was
// requested but PyTorch was build without libuv support". The classic backend exists in every
// release and speaks the same protocol, so zoo always asks for it. The field is detected rather
// than guessed from TORCH_VERSION_*: the exact release that added it does not matter here.
template <typename Options>
auto disable_libuv(Options& o, int) -> decltype(o.useLibUV = false, void()) {
  o.useLibUV = false;
}
template <typename Options>
void disable_libuv(Options&, long) {}  // 1.x: no libuv backend at all
template <typename Options>
void use_classic_tcpstore(Options& o) {
  disable_libuv(o, 0);
}

// Autocast: LibTorch 2.4 replaced the per-device calls (is_cpu_enabled, set_cpu_enabled,
// set_autocast_cpu_dtype, and set_enabled/set_autocast_gpu_dtype for CUDA) by device-generic
// ones and marks the old ones deprecated, which -Werror turns into a build failure (2.6 on
// Debian 13). 1.13 has only the old ones. Every autocast call in zoo, tests included, goes
// through these three functions and the guard below.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
inline bool autocast_enabled(c10::DeviceType device) { return at::autocast::is_autocast_enabled(device); }
inline void set_autocast_enabled(c10::DeviceType device, bool on) {
  at::autocast::set_autocast_enabled(device, on);
}
inline void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype) {
  at::autocast::set_autocast_dtype(device, dtype);
}
#else
inline bool autocast_enabled(c10::DeviceType device) {
  return device == c10::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
inline void set_autocast_enabled(c10::DeviceType device, bool on) {
  if (device == c10::kCUDA)
    at::autocast::set_enabled(on);
  else
    at::autocast::set_cpu_enabled(on);
}
inline void set_autocast_dtype(c10::DeviceType device, c10::ScalarType dtype) {
  if (device == c10::kCUDA)
    at::autocast::set_autocast_gpu_dtype(dtype);
  else
    at::autocast::set_autocast_cpu_dtype(dtype);
}
#endif

// A scope under autocast, as `with torch.autocast(device, dtype)`: matrix products in `dtype`,
// the rest as it was. Autocast caches each weight's low-precision copy; the cache is cleared
// when the outermost scope ends, since an optimizer step makes it stale. `on == false` makes it
// a no-op, so callers need no branch.
class AutocastScope {
 public:
  AutocastScope(bool on, c10::DeviceType device, c10::ScalarType dtype) : on_(on), device_(device) {
    if (!on_) return;
    was_on_ = autocast_enabled(device_);
    set_autocast_enabled(device_, true);
    set_autocast_dtype(device_, dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_autocast_enabled(device_, was_on_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
  c10::DeviceType device_;
  bool was_on_ = false;
};

}  // namespace zoo::compat
