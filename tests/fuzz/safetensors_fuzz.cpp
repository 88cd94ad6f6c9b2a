// libFuzzer target: any bytes as a safetensors file. The parser must return a layout or throw
// UserError: never crash, hang, read out of bounds or allocate more than the input's size.
#include <cstddef>
#include <cstdint>

#include "io/error.h"
#include "io/safetensors_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto layout = zoo::safetensors::parse(data, size, "fuzz");
    // What the tensor layer relies on: every range lies inside the input.
    for (const auto& e : layout.entries)
      if (layout.data_start + e.end > size) __builtin_trap();
  } catch (const zoo::UserError&) {
  }
  return 0;
}
