#pragma once
// An export directory as `zoo export` writes it: model.pt (TorchScript), meta.json (what the
// model expects and returns, machine-readable) and, for text tasks, vocab.txt. Untrusted input:
// meta.json is size-bounded and every field read is checked, with errors naming the file and key.
#include <torch/script.h>

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>

#include "io/export_format.h"

namespace zoo::infer {

class ExportDir {
 public:
  // Reads DIR/meta.json; throws std::runtime_error when it is missing, malformed, of another
  // format_version, or of a task not in `tasks`.
  ExportDir(const std::string& dir, std::initializer_list<const char*> tasks);

  const std::string& dir() const { return dir_; }
  const std::string& task() const { return task_; }
  const nlohmann::json& meta() const { return meta_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  // The file named by meta.json's string at `path` ("vocab"): a relative name that stays inside
  // the export directory, links resolved; otherwise "DIR/meta.json: vocab: ..." is thrown.
  std::string file_at(const std::string& path) const;

  // meta.json's value at a '/'-separated path ("input/image_size"), converted to T; throws
  // "DIR/meta.json: input/image_size: <why>" when absent or of another type.
  template <typename T>
  T get(const std::string& path) const {
    const nlohmann::json& value = at(path);
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception& e) {
      fail(path, std::string("has the wrong type (") + value.type_name() + ")");
    }
  }
  const nlohmann::json& at(const std::string& path) const;
  [[noreturn]] void fail(const std::string& path, const std::string& why) const;

  // model.pt on `device`, in eval mode; errors name the file. Also keeps freed memory for the
  // next call (infer/memory_reuse.h). `optimize` (CPU only): torch::jit::optimize_for_inference,
  // i.e. the module frozen to its forward, BatchNorm folded into the convolutions before it and
  // convolutions run by oneDNN; outputs then differ at float rounding (docs/speed.md).
  torch::jit::Module load_module(const torch::Device& device, bool optimize = false) const;

 private:
  std::string dir_, task_;
  nlohmann::json meta_;
};

}  // namespace zoo::infer
