#include "infer/memory_reuse.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace zoo::infer {

namespace {

bool set_once() {
#if defined(__GLIBC__)
  for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"})
    if (std::getenv(name)) return false;
  const char* keep_defaults = std::getenv("ZOO_MALLOC_DEFAULTS");
  if (keep_defaults && std::strcmp(keep_defaults, "1") == 0) return false;
  constexpr int kOneGiB = 1 << 30;
  // Both: a fixed mmap threshold also stops glibc from moving the trim threshold by itself.
  // Under a sanitizer or another allocator mallopt may refuse (return 0): nothing changes then.
  return mallopt(M_MMAP_THRESHOLD, kOneGiB) == 1 && mallopt(M_TRIM_THRESHOLD, kOneGiB) == 1;
#else
  return false;
#endif
}

}  // namespace

bool keep_freed_memory_between_calls() {
  static const bool in_force = set_once();  // thread-safe, once per process
  return in_force;
}

}  // namespace zoo::infer
