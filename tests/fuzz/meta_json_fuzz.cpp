// libFuzzer target: an export's meta.json as zoo::infer reads it (infer/export_dir.h). Any
// bytes give an ExportDir whose fields read back or throw naming meta.json on one line, and
// whose file paths (meta.json's "vocab") stay inside the export directory.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "infer/export_dir.h"
#include "tests/fuzz/fuzz_util.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string meta = zoo::fuzz::write_file("export/meta.json", data, size);
  const std::string dir = fs::path(meta).parent_path().string();
  const auto check = [&](const std::exception& e) {
    const std::string what = e.what();
    zoo::fuzz::require(what.find(meta) != std::string::npos, "the message names meta.json");
    zoo::fuzz::require(what.find('\n') == std::string::npos, "the message is one line");
    zoo::fuzz::require(what.size() < 1000, "the message is short");
  };
  try {
    const zoo::infer::ExportDir e(dir, {"mlm", "sts", "keypoints", "heatmap", "rpn"});
    for (const char* key : {"vocab", "input/image_size", "max_seq_len", "task"}) {
      try {
        if (std::string(key) == "vocab") {
          const fs::path file = fs::weakly_canonical(e.file_at(key));
          const fs::path root = fs::weakly_canonical(dir);
          zoo::fuzz::require(std::mismatch(root.begin(), root.end(), file.begin(), file.end()).first == root.end(),
                             "meta.json paths stay inside the export");
        } else {
          (void)e.get<int64_t>(key);
        }
      } catch (const std::runtime_error& err) {
        check(err);
      }
    }
  } catch (const std::runtime_error& err) {
    check(err);
  }
  return 0;
}
