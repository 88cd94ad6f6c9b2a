// libFuzzer target: any bytes as a Pascal VOC annotation (load_voc_dir on a folder holding it).
// The scratch folder holds empty files a.jpg and b.jpg for <filename> to name (the loader only
// checks that images exist).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/detection_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zoo::fuzz::write_named_images_once();
  const std::string path = zoo::fuzz::write_file("voc/a.xml", data, size);
  const std::string dir = zoo::fuzz::scratch_dir() + "/voc";
  zoo::fuzz::load_all_policies(dir, [&](const zoo::DetectionLoadOptions& o) { return zoo::load_voc_dir(dir, o); });
  return 0;
}
