#pragma once
// Untrusted JSON, one parse for every reader: nesting bounded before a tree is built (a
// 100,000-deep array would otherwise crash whatever recurses over it: dump(), a message), no key
// twice in one object (nlohmann would keep the last silently), O(n log n) in the text's size. And
// untrusted values quoted in messages at a bounded length. No LibTorch: the fuzzers link it alone.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace zoo {

// Deeper than any file of ours or of Hugging Face's (4 levels), shallow enough for any stack.
constexpr size_t kMaxJsonDepth = 64;

// Parses `text` (// and /* */ comments allowed when `comments`). Errors are UserErrors starting
// with `what` and, for syntax errors, ":LINE" ("config.json:3: invalid JSON: ..."), at most a few
// hundred bytes long whatever the input.
nlohmann::json parse_json_text(std::string_view text, const std::string& what, bool comments = true);

// A value for a message: scalars as JSON (strings cut to 60 bytes and marked "..."), arrays and
// objects by their size ("an array of 3 values"). Never longer than ~80 bytes, never throws.
std::string json_excerpt(const nlohmann::json& value);

// The first 60 bytes of untrusted text for a message, cut at a character boundary, "..." marked.
std::string text_excerpt(std::string_view text);

}  // namespace zoo
