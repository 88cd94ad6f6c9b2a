#include "io/json_text.h"

#include <algorithm>
#include <set>
#include <vector>

#include "io/error.h"

namespace zoo {

using Json = nlohmann::json;

namespace {

constexpr size_t kExcerptBytes = 60;

// The first pass: nlohmann's SAX events only, no tree. Stops at the first object or array
// nested deeper than kMaxJsonDepth and at the first key repeated within one object.
class BoundsCheck : public nlohmann::json_sax<Json> {
 public:
  std::string problem;  // empty while the text is fine
  size_t byte = 0;      // of a syntax error, for its line number
  std::string syntax;   // nlohmann's syntax message
  bool positioned = false;  // a syntax error (not a number overflow, which has no position)

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return enter();
  }
  bool key(string_t& k) override {
    if (keys_.back().insert(k).second) return true;
    problem = "the key " + json_excerpt(Json(k)) + " appears twice in one object";
    return false;
  }
  bool end_object() override {
    keys_.pop_back();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    byte = position;
    syntax = e.what();
    positioned = dynamic_cast<const nlohmann::detail::parse_error*>(&e) != nullptr;
    return false;
  }

 private:
  bool enter() {
    if (++depth_ <= kMaxJsonDepth) return true;
    problem = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return false;
  }
  size_t depth_ = 0;
  std::vector<std::set<std::string>> keys_;  // of each open object
};

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1,
// column 2: " prefix, cut: its "last read: '...'" can quote a whole 200 MB string.
std::string syntax_reason(const std::string& what) {
  const auto colon = what.find(": ", what.find("] "));
  const auto bracket = what.find("] ");
  std::string why = colon != std::string::npos ? what.substr(colon + 2)
                    : bracket != std::string::npos ? what.substr(bracket + 2)
                                                   : what;
  // Escaped before it is cut: one control byte becomes four ("\x7f"), and a cut made first let
  // 200 of them grow to 800 (found by fuzzing).
  why = one_line(why);
  if (why.size() > 200) why = text_excerpt(why.substr(0, 200)) + "'";
  return why;
}

}  // namespace

std::string text_excerpt(std::string_view text) {
  if (text.size() <= kExcerptBytes) return std::string(text);
  size_t cut = kExcerptBytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  return std::string(text.substr(0, cut)) + "...";
}

std::string json_excerpt(const Json& value) {
  if (value.is_array()) return "an array of " + std::to_string(value.size()) + " values";
  if (value.is_object()) return "an object of " + std::to_string(value.size()) + " keys";
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    const std::string cut = text_excerpt(s);
    const bool more = cut.size() != s.size();
    const std::string shown = Json(more ? cut.substr(0, cut.size() - 3) : cut)
                                  .dump(-1, ' ', false, Json::error_handler_t::replace);
    return more ? shown + "..." : shown;
  }
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json parse_json_text(std::string_view text, const std::string& what, bool comments) {
  BoundsCheck check;
  const bool ok = Json::sax_parse(text.begin(), text.end(), &check, Json::input_format_t::json, /*strict=*/true, comments);
  if (!ok && !check.problem.empty()) throw UserError(what + ": invalid JSON: " + check.problem);
  if (!ok && !check.positioned) throw UserError(what + ": invalid JSON: " + syntax_reason(check.syntax));
  if (!ok) {
    // A syntax error's byte offset becomes a line number.
    size_t line = 1;
    const size_t end = std::min(check.byte, text.size());
    line += static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
    throw UserError(what + ":" + std::to_string(line) + ": invalid JSON: " + syntax_reason(check.syntax));
  }
  try {
    return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/true, comments);
  } catch (const Json::exception& e) {
    // A number too large for a double (out_of_range 406, found by fuzzing) has no position.
    throw UserError(what + ": invalid JSON: " + syntax_reason(e.what()));
  }
}

}  // namespace zoo
