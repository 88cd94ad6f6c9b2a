#include "train/config.h"


#include "data/utf8.h"
#include "io/json_text.h"

namespace zoo {

namespace {
std::string kind_of(const Json& v) {
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "null";
}

// Whether `value` may replace `default_value`: same JSON kind, except that an integer may
// stand for a number and null defaults accept anything.
bool compatible(const Json& default_value, const Json& value) {
  if (default_value.is_null()) return true;
  if (default_value.is_number_float()) return value.is_number();
  if (default_value.is_number()) return value.is_number_integer() || value.is_number_unsigned();
  return default_value.type() == value.type();
}
}  // namespace

void Config::merge_file(const std::string& path) {
  const Json j = read_json_file(path);
  if (!j.is_object()) throw UserError(path + ": a config must be a JSON object");
  merge(j, path);
}

void Config::merge(const Json& overrides, const std::string& origin) {
  merge_into(values_, overrides, origin, "");
}

void Config::merge_into(Json& base, const Json& overrides, const std::string& origin,
                        const std::string& prefix) {
  for (const auto& [key, value] : overrides.items()) {
    const std::string dotted = prefix.empty() ? key : prefix + "." + key;
    if (!base.contains(key)) throw UserError(origin + ": unknown key '" + text_excerpt(dotted) + "'");
    Json& slot = base[key];
    if (!compatible(slot, value))
      throw UserError(origin + ": key '" + dotted + "' must be " + kind_of(slot) + ", got " +
                      kind_of(value) + " " + json_excerpt(value));
    if (slot.is_object() && !slot.empty()) {
      merge_into(slot, value, origin, dotted);
    } else {
      slot = value;
      origin_[dotted] = origin;
    }
  }
}

void Config::set(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UserError("--set '" + text_excerpt(assignment) + "': expected key.path=value");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  // Key and value must be UTF-8: a bare-word value or a key segment ends up in the config (or in
  // an error quoting it), written with nlohmann::json::dump, which throws on anything else with
  // a message naming no key.
  if (!valid_utf8(assignment)) throw UserError("--set " + key + ": not valid UTF-8");
  Json value;
  try {
    value = parse_json_text(text, "--set " + key, /*comments=*/false);  // nesting bounded
  } catch (const UserError&) {  // a syntax error, 1e999, or too deep
    value = text;  // a bare word such as adamw is a string
  }
  // Build {"a": {"b": value}} from "a.b" and merge it.
  Json nested = value;
  std::string rest = key;
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const auto dot = rest.find('.', start);
    parts.push_back(rest.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) nested = Json{{*it, nested}};
  merge(nested, "--set " + key);
}

const Json& Config::at(const std::string& dotted_key) const {
  const Json* value = find_dotted(values_, dotted_key);
  if (value == nullptr) throw UserError("config: missing key '" + dotted_key + "'");
  return *value;
}

const Json* find_dotted(const Json& root, const std::string& dotted_key) {
  const Json* node = &root;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted_key.find('.', start);
    const std::string part = dotted_key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

void set_dotted(Json& root, const std::string& dotted_key, Json value) {
  Json* node = &root;
  size_t start = 0;
  for (size_t dot; (dot = dotted_key.find('.', start)) != std::string::npos; start = dot + 1)
    node = &(*node)[dotted_key.substr(start, dot - start)];
  (*node)[dotted_key.substr(start)] = std::move(value);
}

void Config::fail(const std::string& dotted_key, const std::string& message) const {
  const auto it = origin_.find(dotted_key);
  const std::string origin = it == origin_.end() ? "config (default value)" : it->second;
  std::string shown;
  try {
    shown = " (got " + json_excerpt(at(dotted_key)) + ")";
  } catch (const UserError&) {
  }
  throw UserError(origin + ": " + dotted_key + " " + message + shown);
}

}  // namespace zoo
