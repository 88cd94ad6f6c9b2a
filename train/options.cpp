#include "train/options.h"

namespace zoo {

Check<std::string> one_of(std::vector<std::string> choices) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  return {[choices](const std::string& v) {
            for (const auto& c : choices)
              if (v == c) return true;
            return false;
          },
          "must be one of " + list};
}

}  // namespace zoo
