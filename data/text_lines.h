#pragma once
// Reading the text files users hand us, the same way in every loader (STS pairs, hand and
// detection label files, text corpora): lines, fields, numbers, and errors that name the file
// and the line.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace zoo {

struct LineReadOptions {
  bool check_utf8 = false;    // a line that is not UTF-8 is an error
  size_t max_line_bytes = 0;  // a longer line is an error (0: no limit)
};

// The file as lines (lines[k] is line k + 1): a leading UTF-8 byte-order mark and one trailing
// '\r' per line dropped. UserError "PATH: cannot open", "PATH:LINE: invalid UTF-8 (text files
// must be UTF-8)", "PATH:LINE: line of N bytes exceeds the limit of M", "PATH: read error".
std::vector<std::string> read_lines(const std::string& path, const LineReadOptions& options = {});

// Without surrounding ASCII whitespace (space, \t, \r, \n, \v, \f).
std::string trim(std::string_view s);
// True when the line has nothing but ASCII whitespace.
bool blank(std::string_view line);
// The comma-separated fields of a CSV line, each trimmed (no quoting: the label formats that use
// CSV here have no commas inside fields).
std::vector<std::string> split_csv_line(std::string_view line);

// Strict: the whole of `s` must be the number ("12abc", "" and "nan" are not).
bool parse_double(const std::string& s, double& v);
bool parse_int(const std::string& s, int& v);

// throw UserError(where + ": " + what)
[[noreturn]] void fail(const std::string& where, const std::string& what);
// Refuses a directory, FIFO, device or socket at `path` by what it is (a FIFO would block the
// open forever, /dev/zero be read until memory runs out); a missing file is left to the caller.
void refuse_special_file(const std::string& path);
// A whole JSON data file (a hand manifest, COCO annotations): refuse_special_file, "cannot open",
// then io/json_text.h's bounded parse (errors "PATH:LINE: invalid JSON: ...").
nlohmann::json read_json_data_file(const std::string& path);

}  // namespace zoo
