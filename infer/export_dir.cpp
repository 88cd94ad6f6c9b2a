#include "infer/export_dir.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace zoo::infer {

namespace fs = std::filesystem;

namespace {
// meta.json holds a few per-token tables (STS match classes: one small integer per vocabulary
// entry); anything far larger is not ours.
constexpr std::uintmax_t kMaxMetaBytes = 64u << 20;
}  // namespace

ExportDir::ExportDir(const std::string& dir, std::initializer_list<const char*> tasks) : dir_(dir) {
  const std::string path = file("meta.json");
  if (!fs::is_directory(dir))
    throw std::runtime_error(dir + ": not an export directory (zoo export --run RUN writes RUN/export)");
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw std::runtime_error(path + ": cannot read (" + ec.message() + "); is " + dir + " an export directory?");
  if (size > kMaxMetaBytes) throw std::runtime_error(path + ": " + std::to_string(size) + " bytes, too large for a meta.json");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw std::runtime_error(path + ": cannot read");
  try {
    meta_ = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": invalid JSON: " + e.what());
  }
  if (!meta_.is_object()) throw std::runtime_error(path + ": expected a JSON object");
  if (!meta_.contains("format_version"))
    throw std::runtime_error(path + ": has no format_version: written by an older zoo; export the run again with "
                                    "zoo export --run RUN");
  const auto version = get<int>("format_version");
  if (version != kExportFormatVersion)
    throw std::runtime_error(path + ": format_version " + std::to_string(version) + ", but this zoo reads version " +
                             std::to_string(kExportFormatVersion) + "; export the run again with this zoo");
  task_ = get<std::string>("task");
  std::string expected;
  for (const char* t : tasks) {
    if (task_ == t) return;
    expected += (expected.empty() ? "" : " or ") + std::string(t);
  }
  throw std::runtime_error(path + ": an export of task " + task_ + ", not of " + expected);
}

const nlohmann::json& ExportDir::at(const std::string& path) const {
  const nlohmann::json* node = &meta_;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const std::string key = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!node->is_object() || !node->contains(key)) fail(path, "missing");
    node = &(*node)[key];
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return *node;
}

void ExportDir::fail(const std::string& path, const std::string& why) const {
  throw std::runtime_error(file("meta.json") + ": " + path + ": " + why);
}

torch::jit::Module ExportDir::load_module(const torch::Device& device) const {
  const std::string path = file("model.pt");
  if (!fs::is_regular_file(path)) throw std::runtime_error(path + ": missing");
  try {
    torch::jit::Module module = torch::jit::load(path, device);
    module.eval();
    return module;
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": cannot load the TorchScript module: " + e.what_without_backtrace());
  }
}

}  // namespace zoo::infer
