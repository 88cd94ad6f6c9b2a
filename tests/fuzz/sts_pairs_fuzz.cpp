// libFuzzer target: any bytes as an STS pairs file, read as every format (auto-detected, STS-B
// TSV, CSV, SICK with and without a split, JSONL). A load returns valid pairs or throws an error
// naming the file; it never crashes.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "data/sts_pairs.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = zoo::fuzz::write_file("pairs.txt", data, size);
  try {
    const std::string format = zoo::detect_sts_format(path);
    zoo::fuzz::require(format == "stsb" || format == "csv" || format == "sick" || format == "jsonl",
                       "detect_sts_format returns a format load_sts_pairs knows");
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, path);
  }
  for (const char* format : {"auto", "stsb", "csv", "sick", "jsonl"}) {
    for (const char* split : {"", "TRAIN"}) {
      if (*split && std::string(format) != "sick") continue;  // a split is only valid for SICK
      try {
        for (const auto& p : zoo::load_sts_pairs(path, format, 0.0, 5.0, split)) {
          zoo::fuzz::require(!p.s1.empty() && !p.s2.empty(), "sentences are not empty");
          zoo::fuzz::require(std::isfinite(p.score) && p.score >= 0 && p.score <= 5, "score in [0, 5]");
        }
      } catch (const zoo::UserError& e) {
        zoo::fuzz::check_message(e, path);
      }
    }
  }
  return 0;
}
