#include "io/json_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/atomic_file.h"
#include "io/error.h"

namespace zoo {

Json read_json_file(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw UserError(path + ": is a directory, not a JSON file");
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    // Comments are allowed: `zoo tasks NAME > my.json` documents every key in // lines.
    return Json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const Json::exception& e) {
    // A syntax error's byte offset becomes a line number; a number too large for a double
    // (out_of_range 406, found by fuzzing) has no position.
    std::string where = path;
    if (const auto* syntax = dynamic_cast<const Json::parse_error*>(&e)) {
      size_t line = 1;
      for (size_t i = 0; i < std::min<size_t>(syntax->byte, text.size()); ++i) line += text[i] == '\n';
      where += ":" + std::to_string(line);
    }
    // What follows nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: "
    // or its "[json.exception.out_of_range.406] " prefix.
    const std::string what = e.what();
    const auto colon = what.rfind(": "), bracket = what.find("] ");
    throw UserError(where + ": invalid JSON: " +
                    (colon != std::string::npos   ? what.substr(colon + 2)
                     : bracket != std::string::npos ? what.substr(bracket + 2)
                                                    : what));
  }
}

void write_json_file(const std::string& path, const Json& value) {
  atomic_write_text(path, value.dump(2) + "\n");
}

}  // namespace zoo
