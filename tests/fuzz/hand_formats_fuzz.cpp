// libFuzzer target: any bytes as a hand-keypoint manifest, read as JSON (load_hand_manifest) and
// as CSV (load_hand_csv, centimetres like the shared annotations.csv). A load returns records of
// 21 finite joints in front of the camera or throws an error naming the file; it never crashes.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "data/hand_formats.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void check(const std::vector<zoo::HandRecord>& records) {
  zoo::fuzz::require(!records.empty(), "at least one record");
  for (const auto& r : records) {
    zoo::fuzz::require(r.xyz_mm.size() == zoo::kHandJoints && r.uv.size() == zoo::kHandJoints &&
                           r.visible.size() == zoo::kHandJoints,
                       "21 joints");
    for (const auto& p : r.xyz_mm)
      zoo::fuzz::require(std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z) && p.z > 0,
                         "joints finite, in front of the camera");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json = zoo::fuzz::write_file("hand.json", data, size);
  try {
    check(zoo::load_hand_manifest(json));
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, json);
  }
  const std::string csv = zoo::fuzz::write_file("hand.csv", data, size);
  try {
    check(zoo::load_hand_csv(csv, 10.0));
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, csv);
  }
  return 0;
}
