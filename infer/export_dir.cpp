#include "infer/export_dir.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "infer/memory_reuse.h"
#include "io/json_text.h"
#include "io/user_file.h"
#include "io/zip_records.h"

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
  // A regular file, bounded before it is read, nesting bounded (io/user_file.h, io/json_text.h).
  if (describe_path(path) == "missing")
    throw std::runtime_error(path + ": missing; is " + dir + " an export directory (zoo export --run RUN)?");
  meta_ = parse_json_text(read_user_file(path, kMaxMetaBytes, "a meta.json"), path, /*comments=*/false);
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
  throw std::runtime_error(path + ": an export of task " + text_excerpt(task_) + ", not of " + expected);
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

std::string ExportDir::file_at(const std::string& path) const {
  const auto name = get<std::string>(path);
  const fs::path relative(name);
  if (name.empty() || relative.is_absolute() || relative.has_root_name())
    fail(path, "must be a file name inside the export directory, got " + json_excerpt(name));
  for (const auto& part : relative)
    if (part == "..") fail(path, "must stay inside the export directory, got " + json_excerpt(name));
  // A link inside the export may still point out of it: compare the resolved paths.
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(dir_, ec), target = fs::weakly_canonical(fs::path(dir_) / relative, ec);
  const bool inside = std::mismatch(root.begin(), root.end(), target.begin(), target.end()).first == root.end();
  if (ec || !inside)
    fail(path, json_excerpt(name) + " resolves to " + target.string() + ", outside the export directory");
  return file(name);
}

void ExportDir::fail(const std::string& path, const std::string& why) const {
  throw std::runtime_error(file("meta.json") + ": " + path + ": " + why);
}

torch::jit::Module ExportDir::load_module(const torch::Device& device, bool optimize) const {
  const std::string path = file("model.pt");
  check_zip_file(path);  // a regular file of stored records, before LibTorch allocates any
  keep_freed_memory_between_calls();
  try {
    torch::jit::Module module = torch::jit::load(path, device);
    module.eval();
    if (optimize && device.is_cpu()) module = torch::jit::optimize_for_inference(module);
    return module;
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": cannot load the TorchScript module: " + e.what_without_backtrace());
  }
}

}  // namespace zoo::infer
