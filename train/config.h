#pragma once
// Strict JSON configuration: code defaults, then a config file, then `--set a.b=value`
// overrides. A key the defaults do not have, or a value of the wrong type, is an error that
// names the key and where the value came from.
#include <map>
#include <stdexcept>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/json_file.h"

namespace zoo {


class Config {
 public:
  explicit Config(Json defaults) : values_(std::move(defaults)) {}

  // Reads a JSON file and merges it onto the current values.
  void merge_file(const std::string& path);
  // Merges an object whose keys must all exist (recursively) in the current values.
  void merge(const Json& overrides, const std::string& origin);
  // "a.b.c=value": value parsed as JSON, or taken as a string when it is not valid JSON.
  void set(const std::string& assignment);

  const Json& values() const { return values_; }
  const Json& at(const std::string& dotted_key) const;
  // Whether a config file or --set gave this key (rather than the code default).
  bool is_set(const std::string& dotted_key) const { return origin_.count(dotted_key) > 0; }

  // Throws UserError "<origin>: <key> <message>" (origin = the file or --set that gave the key).
  [[noreturn]] void fail(const std::string& dotted_key, const std::string& message) const;
  void require(bool ok, const std::string& dotted_key, const std::string& message) const {
    if (!ok) fail(dotted_key, message);
  }

 private:
  void merge_into(Json& base, const Json& overrides, const std::string& origin,
                  const std::string& prefix);
  Json values_;
  std::map<std::string, std::string> origin_;  // dotted key -> file or "--set"
};

// The value at a dotted key ("optim.lr") of a JSON object, nullptr when absent; and setting one
// (creating the objects on the way).
const Json* find_dotted(const Json& root, const std::string& dotted_key);
void set_dotted(Json& root, const std::string& dotted_key, Json value);

// A float constant as the decimal it was written as (0.485, not 0.48500001430511475), for JSON
// files people read (six significant decimals).
inline double decimal(float v) { return std::round(static_cast<double>(v) * 1e6) / 1e6; }

}  // namespace zoo
