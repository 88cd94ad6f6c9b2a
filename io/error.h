#pragma once
// The one error type for bad user input (a config, a data file, a checkpoint, an argument): the
// CLI prints its message as one line and exits 1. It lives in the lowest layer so that every
// reader of user files can throw it.
#include <cstdio>
#include <stdexcept>
#include <string>

namespace zoo {

// `text` with line breaks and other control bytes escaped (\n, \r, \xNN; tabs kept), so that
// input quoted in a message (a multi-line CSV field, an XML text, a JSON key) keeps it one line.
inline std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if ((u < 0x20 && c != '\t') || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

struct UserError : std::runtime_error {
  explicit UserError(const std::string& what) : std::runtime_error(one_line(what)) {}
};

}  // namespace zoo
