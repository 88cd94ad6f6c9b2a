// libFuzzer target: any bytes as a COCO instances JSON (load_coco_json). The scratch folder holds
// empty files a.jpg and b.jpg for file_name to name (the loader only checks that images exist).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/detection_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zoo::fuzz::write_named_images_once();
  const std::string path = zoo::fuzz::write_file("instances_train.json", data, size);
  zoo::fuzz::load_all_policies(path, [&](const zoo::DetectionLoadOptions& o) { return zoo::load_coco_json(path, o); });
  return 0;
}
