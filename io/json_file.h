#pragma once
// JSON files: read with errors that name the file and the line, written atomically.
#include <nlohmann/json.hpp>

#include <string>

namespace zoo {

using Json = nlohmann::json;

// Parses a JSON file (// comments allowed; bounded: io/user_file.h, io/json_text.h); errors name the file and line.
Json read_json_file(const std::string& path);
// Writes JSON to path atomically (temporary file, fsync, rename).
void write_json_file(const std::string& path, const Json& value);

}  // namespace zoo
