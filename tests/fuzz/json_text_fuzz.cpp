// libFuzzer target: the one JSON parser of user files (io/json_text.h), which reads configs,
// a checkpoint's config.json, modules.json, tokenizer_config.json and sentence_bert_config.json,
// meta.json and safetensors headers. Any bytes give a value nested at most kMaxJsonDepth deep
// (which dump() and json_excerpt() then handle), or a one-line UserError naming the file that
// stays short however large the input (the 200 MB string reached stderr whole).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/json_text.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

size_t depth(const nlohmann::json& j) {
  size_t deepest = 0;
  if (j.is_structured())
    for (const auto& child : j) deepest = std::max(deepest, depth(child));
  return j.is_structured() ? deepest + 1 : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const bool comments : {true, false}) {
    try {
      const nlohmann::json j = zoo::parse_json_text(text, "modules.json", comments);
      zoo::fuzz::require(depth(j) <= zoo::kMaxJsonDepth, "nesting within the bound");
      (void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      zoo::fuzz::require(zoo::json_excerpt(j).size() <= 80, "an excerpt of at most 80 bytes");
      if (j.is_object())
        for (const auto& [key, value] : j.items())
          zoo::fuzz::require(zoo::json_excerpt(value).size() <= 80, "an excerpt of at most 80 bytes");
    } catch (const zoo::UserError& e) {
      zoo::fuzz::check_message(e, "modules.json");
      zoo::fuzz::require(std::string_view(e.what()).size() < 400, "a message under 400 bytes");
    }
  }
  return 0;
}
