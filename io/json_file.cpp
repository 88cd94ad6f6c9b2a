#include "io/json_file.h"

#include "io/atomic_file.h"
#include "io/json_text.h"
#include "io/user_file.h"

namespace zoo {

Json read_json_file(const std::string& path) {
  // Comments are allowed: `zoo tasks NAME > my.json` documents every key in // lines.
  return parse_json_text(read_user_file(path, kMaxSettingsFileBytes, "a JSON file"), path, /*comments=*/true);
}

void write_json_file(const std::string& path, const Json& value) {
  atomic_write_text(path, value.dump(2) + "\n");
}

}  // namespace zoo
