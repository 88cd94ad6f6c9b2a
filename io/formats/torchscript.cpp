#include "io/formats/torchscript.h"

#include <algorithm>
#include <sstream>

#include "io/atomic_file.h"

namespace zoo {

std::string script_attribute_name(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

void save_script_module(torch::jit::Module& module, const std::string& path) {
  std::ostringstream out;
  module.save(out);
  const std::string bytes = out.str();
  atomic_write(path, [&](const ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

}  // namespace zoo
