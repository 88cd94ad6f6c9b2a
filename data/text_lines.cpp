#include "data/text_lines.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>

#include "data/utf8.h"
#include "io/error.h"
#include "io/json_text.h"
#include "io/user_file.h"

namespace zoo {

namespace {
constexpr const char* kSpace = " \t\r\n\v\f";
}  // namespace

void refuse_special_file(const std::string& path) {
  const std::string kind = describe_path(path);
  if (kind != "missing" && kind != "a regular file") fail(path, "is " + kind + ", not a regular file");
}

nlohmann::json read_json_data_file(const std::string& path) {
  refuse_special_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "read error");
  return parse_json_text(text, path, /*comments=*/false);
}

std::vector<std::string> read_lines(const std::string& path, const LineReadOptions& options) {
  refuse_special_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    const auto where = [&] { return path + ":" + std::to_string(lines.size() + 1); };
    if (options.max_line_bytes > 0 && line.size() > options.max_line_bytes)
      fail(where(), "line of " + std::to_string(line.size()) + " bytes exceeds the limit of " +
                        std::to_string(options.max_line_bytes));
    if (lines.empty() && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (options.check_utf8 && !valid_utf8(line)) fail(where(), "invalid UTF-8 (text files must be UTF-8)");
    lines.push_back(std::move(line));
  }
  if (in.bad()) fail(path, "read error");
  return lines;
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(kSpace) - b + 1));
}

bool blank(std::string_view line) { return line.find_first_not_of(kSpace) == std::string_view::npos; }

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

bool parse_double(const std::string& s, double& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
}

bool parse_int(const std::string& s, int& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

void fail(const std::string& where, const std::string& what) { throw UserError(where + ": " + what); }

}  // namespace zoo
