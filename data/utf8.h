#pragma once
// Text loaders check every line with this before a tokenizer sees it: undecodable bytes are an
// error naming the file and line, never silently mangled.
#include <string_view>

namespace zoo {

// Well-formed UTF-8 per RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s);

}  // namespace zoo
