#pragma once
// The one place where LibTorch releases differ in an API zoo uses (1.13 on Debian 12, 2.6 on
// Debian 13, the 2.x CUDA wheels; see docs/platforms.md). Everything else compiles unchanged.
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

}  // namespace zoo::compat
