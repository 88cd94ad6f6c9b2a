#include "data/sts_pairs.h"
#include "io/error.h"

#include "data/text_lines.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "data/sampling.h"

namespace zoo {

namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out.precision(15);  // enough that 5.0000001 does not print as "5" in "score 5 outside [0, 5]"
  out << v;
  return out.str();
}

[[noreturn]] void fail_at(const std::string& path, size_t line, const std::string& what) {
  fail(path + ":" + std::to_string(line), what);
}

// The whole field (surrounding whitespace allowed) as a finite number. from_chars, unlike
// strtod, ignores the C locale, so "3.8" reads the same under a German locale.
bool parse_score(std::string_view text, double* out) {
  const std::string t = trim(text);
  const char* end = t.data() + t.size();
  const auto result = std::from_chars(t.data(), end, *out);
  return !t.empty() && result.ec == std::errc() && result.ptr == end && std::isfinite(*out);
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields(1);
  for (const char c : line) {
    if (c == '\t') fields.emplace_back();
    else fields.back().push_back(c);
  }
  return fields;
}

// Shared validation of one row; every format ends here.
struct PairBuilder {
  const std::string& path;
  double min_score, max_score;

  SentencePair make(size_t line, std::string_view s1, std::string_view s2, double score) const {
    SentencePair pair{trim(s1), trim(s2), score};
    if (pair.s1.empty()) fail_at(path, line, "sentence 1 is empty");
    if (pair.s2.empty()) fail_at(path, line, "sentence 2 is empty");
    if (!std::isfinite(score) || score < min_score || score > max_score)
      fail_at(path, line, "score " + format_number(score) + " outside [" + format_number(min_score) + ", " +
                           format_number(max_score) + "]");
    return pair;
  }
  SentencePair make(size_t line, std::string_view s1, std::string_view s2, std::string_view score_text) const {
    double score = 0.0;
    if (!parse_score(score_text, &score)) fail_at(path, line, "score '" + std::string(score_text) + "' is not a number");
    return make(line, s1, s2, score);
  }
};

void require_fields(const std::string& path, size_t line, size_t have, size_t need, const char* separator) {
  if (have < need)
    fail_at(path, line, "expected at least " + std::to_string(need) + " " + separator + "-separated fields, found " +
                         std::to_string(have));
}

std::vector<SentencePair> read_stsb(const std::vector<std::string>& lines, const PairBuilder& rows) {
  std::vector<SentencePair> pairs;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (blank(lines[k])) continue;
    const auto f = split_tabs(lines[k]);
    require_fields(rows.path, k + 1, f.size(), 7, "TAB");
    pairs.push_back(rows.make(k + 1, f[5], f[6], f[4]));
  }
  return pairs;
}

// One RFC-4180 record starting at lines[*k]; advances *k past its last line. A '"' opens a
// quoted field only at the start of a field; elsewhere in an unquoted field it is literal (as in
// Python's csv module), but text between a closing quote and the next ',' is an error.
std::vector<std::string> csv_record(const std::vector<std::string>& lines, size_t* k, const std::string& path) {
  const size_t first = *k;
  std::vector<std::string> fields(1);
  bool quoted = false, field_start = true, after_quote = false;
  std::string_view line = lines[*k];
  for (size_t pos = 0;;) {
    if (pos == line.size()) {
      if (!quoted) break;
      if (++*k == lines.size()) fail_at(path, first + 1, "unterminated quoted field");
      fields.back() += '\n';  // the record continues on the next line
      line = lines[*k];
      pos = 0;
      continue;
    }
    const char c = line[pos++];
    if (quoted) {
      if (c != '"') {
        fields.back() += c;
      } else if (pos < line.size() && line[pos] == '"') {  // "" is one literal quote
        fields.back() += '"';
        ++pos;
      } else {
        quoted = false;
        after_quote = true;
      }
    } else if (c == ',') {
      fields.emplace_back();
      field_start = true;
      after_quote = false;
    } else if (after_quote) {
      fail_at(path, *k + 1, "unexpected text after a closing quote");
    } else if (c == '"' && field_start) {
      quoted = true;
      field_start = false;
    } else {
      fields.back() += c;
      field_start = false;
    }
  }
  ++*k;
  return fields;
}

// A header's score column is a name; a data row's is a number (or a malformed row, which must
// fail rather than be taken for a header).
bool looks_like_name(const std::string& field) {
  const std::string t = trim(field);
  if (t.empty() || !std::isalpha(static_cast<unsigned char>(t[0]))) return false;
  for (const char c : t)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ' ') return false;
  double value = 0.0;  // "NaN" or "inf" is a (bad) score, not a column name
  const auto number = std::from_chars(t.data(), t.data() + t.size(), value);
  return !(number.ec == std::errc() && number.ptr == t.data() + t.size());
}

std::vector<SentencePair> read_csv(const std::vector<std::string>& lines, const PairBuilder& rows) {
  std::vector<SentencePair> pairs;
  bool first_row = true;
  for (size_t k = 0; k < lines.size();) {
    if (blank(lines[k])) { ++k; continue; }
    const size_t line = k + 1;
    const auto f = csv_record(lines, &k, rows.path);
    require_fields(rows.path, line, f.size(), 3, "comma");
    if (first_row && looks_like_name(f[2])) { first_row = false; continue; }
    first_row = false;
    pairs.push_back(rows.make(line, f[0], f[1], f[2]));
  }
  return pairs;
}

std::vector<SentencePair> read_sick(const std::vector<std::string>& lines, const PairBuilder& rows,
                                    const std::string& split) {
  size_t k = 0;
  while (k < lines.size() && blank(lines[k])) ++k;
  if (k == lines.size()) return {};
  const size_t header_line = k + 1;
  const auto header = split_tabs(lines[k]);
  auto column = [&](const char* name) {
    for (size_t c = 0; c < header.size(); ++c)
      if (trim(header[c]) == name) return c;
    fail_at(rows.path, header_line, std::string("missing column '") + name + "' in the header");
  };
  const size_t a = column("sentence_A"), b = column("sentence_B"), score = column("relatedness_score");
  const size_t set = split.empty() ? 0 : column("SemEval_set");
  const size_t need = std::max({a, b, score, set}) + 1;
  std::vector<SentencePair> pairs;
  for (++k; k < lines.size(); ++k) {
    if (blank(lines[k])) continue;
    const auto f = split_tabs(lines[k]);
    require_fields(rows.path, k + 1, f.size(), need, "TAB");
    // Rows of every split are validated: a malformed file is malformed whatever is kept.
    SentencePair pair = rows.make(k + 1, f[a], f[b], f[score]);
    if (split.empty() || trim(f[set]) == split) pairs.push_back(std::move(pair));
  }
  return pairs;
}

std::vector<SentencePair> read_jsonl(const std::vector<std::string>& lines, const PairBuilder& rows) {
  std::vector<SentencePair> pairs;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (blank(lines[k])) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(lines[k]);
    } catch (const nlohmann::json::exception& e) {
      fail_at(rows.path, k + 1, std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object()) fail_at(rows.path, k + 1, "expected a JSON object");
    for (const char* key : {"s1", "s2", "score"})
      if (!j.contains(key)) fail_at(rows.path, k + 1, std::string("missing key '") + key + "'");
    if (!j["s1"].is_string() || !j["s2"].is_string()) fail_at(rows.path, k + 1, "'s1' and 's2' must be strings");
    if (!j["score"].is_number()) fail_at(rows.path, k + 1, "'score' is not a number");
    pairs.push_back(rows.make(k + 1, j["s1"].get<std::string>(), j["s2"].get<std::string>(), j["score"].get<double>()));
  }
  return pairs;
}

std::string detect(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    if (blank(line)) continue;
    if (trim(line)[0] == '{') return "jsonl";
    const auto f = split_tabs(line);
    for (const auto& name : f)
      if (trim(name) == "sentence_A") return "sick";
    double score = 0.0;
    if (f.size() >= 7 && parse_score(f[4], &score)) return "stsb";
    return "csv";
  }
  return "csv";  // empty file: any reader reports "no sentence pairs"
}

}  // namespace

std::string detect_sts_format(const std::string& path) { return detect(read_lines(path, {/*check_utf8=*/true})); }

std::vector<SentencePair> load_sts_pairs(const std::string& path, const std::string& format, double min_score,
                                         double max_score, const std::string& sick_split) {
  if (!(min_score <= max_score))
    throw std::invalid_argument("load_sts_pairs: min_score " + format_number(min_score) + " > max_score " +
                                format_number(max_score));
  const auto lines = read_lines(path, {/*check_utf8=*/true});
  const std::string kind = format == "auto" ? detect(lines) : format;
  if (!sick_split.empty() && kind != "sick")
    throw std::invalid_argument("load_sts_pairs: a split ('" + sick_split + "') is only valid for SICK, not " + kind);
  const PairBuilder rows{path, min_score, max_score};
  std::vector<SentencePair> pairs;
  if (kind == "stsb") pairs = read_stsb(lines, rows);
  else if (kind == "csv") pairs = read_csv(lines, rows);
  else if (kind == "sick") pairs = read_sick(lines, rows, sick_split);
  else if (kind == "jsonl") pairs = read_jsonl(lines, rows);
  else throw std::invalid_argument("load_sts_pairs: unknown format '" + format + "' (stsb, csv, sick, jsonl, auto)");
  if (pairs.empty())
    throw UserError(path + ": no sentence pairs" + (sick_split.empty() ? "" : " in split " + sick_split));
  return pairs;
}

}  // namespace zoo
