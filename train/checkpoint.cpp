// Checkpoint files: Trainer::save_checkpoint / load_checkpoint, model weights alone, and the
// atomic archive writer they share.
#include "train/checkpoint.h"

#include <filesystem>
#include <map>
#include <utility>
#include <vector>

#include "io/atomic_file.h"
#include "io/user_file.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

void save_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  atomic_write(path, [&](const ByteSink& sink) {
    // An exception must not cross LibTorch's zip writer: it would write again while unwinding
    // and abort the process (a full disk did). The first failure is kept, later chunks skipped,
    // and the failure rethrown once the writer is done.
    std::exception_ptr failure;
    try {
      archive.save_to([&](const void* data, size_t size) -> size_t {
        if (!failure) try {
            sink(data, size);
          } catch (...) {
            failure = std::current_exception();
          }
        return size;
      });
    } catch (const c10::Error& e) {
      if (!failure) throw UserError(path + ": cannot save: " + e.what_without_backtrace());
    }
    if (failure) std::rethrow_exception(failure);
  });
}

void load_archive(torch::serialize::InputArchive& archive, const std::string& path) {
  if (const std::string kind = describe_path(path); kind != "a regular file")
    throw UserError(path + (kind == "missing" ? ": no such checkpoint" : ": is " + kind + ", not a checkpoint file"));
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw UserError(path + ": not a readable checkpoint (" + e.what_without_backtrace() + ")");
  }
}

namespace {

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue v;
  archive.read(key, v);
  return v.toInt();
}

double read_double(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue v;
  archive.read(key, v);
  return v.toDouble();
}

// Module::load replaces each tensor by the checkpoint's whatever its shape (Tensor::set_): a
// config.json edited to another hidden size loaded silently, and its export's meta.json lied.
// The shapes the config built are compared with the checkpoint's, naming the first that differs.
void load_module_checked(torch::nn::Module& model, torch::serialize::InputArchive& model_archive, const std::string& path) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : model.named_parameters()) expected.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : model.named_buffers()) expected.emplace_back(b.key(), b.value().sizes().vec());
  model.load(model_archive);
  std::map<std::string, std::vector<int64_t>> loaded;
  for (const auto& p : model.named_parameters()) loaded[p.key()] = p.value().sizes().vec();
  for (const auto& b : model.named_buffers()) loaded[b.key()] = b.value().sizes().vec();
  for (const auto& [name, shape] : expected)
    if (loaded[name] != shape)
      throw UserError(path + ": tensor '" + name + "' is " + c10::str(c10::IntArrayRef(loaded[name])) +
                      " in the checkpoint but " + c10::str(c10::IntArrayRef(shape)) +
                      " in the model the config describes (was config.json's model section edited?)");
}

void check_world_size(const std::string& path, torch::serialize::InputArchive& archive, int64_t world_size) {
  c10::IValue saved;
  const int64_t saved_world_size = archive.try_read("world_size", saved) ? saved.toInt() : 1;
  if (saved_world_size != world_size)
    throw UserError(path + ": written by a job of " + std::to_string(saved_world_size) + " rank(s), resumed with " +
                    std::to_string(world_size) +
                    "; resume with the same WORLD_SIZE (each rank's share of the data depends on it)");
}

}  // namespace

void check_resume_world_size(const std::string& path, int64_t world_size) {
  if (!fs::exists(path)) return;
  torch::serialize::InputArchive archive;
  load_archive(archive, path);
  try {
    check_world_size(path, archive, world_size);
  } catch (const c10::Error& e) {
    throw UserError(path + ": checkpoint does not fit this run (" + e.what_without_backtrace() + ")");
  }
}

void load_model_weights(torch::nn::Module& model, const std::string& path) {
  torch::serialize::InputArchive archive, model_archive;
  load_archive(archive, path);
  try {
    archive.read("model", model_archive);
    load_module_checked(model, model_archive, path);
  } catch (const c10::Error& e) {
    throw UserError(path + ": checkpoint does not fit this model (" + e.what_without_backtrace() +
                    ")");
  }
}

bool run_has_checkpoint(const std::string& run_dir) {
  return !run_dir.empty() &&
         (fs::exists(run_dir + "/checkpoints/last.pt") || fs::exists(run_dir + "/checkpoints/best.pt"));
}

void Trainer::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive archive, model_archive, optim_archive;
  task_.model().save(model_archive);
  optimizer_->save(optim_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optim_archive);
  archive.write("step", c10::IValue(step_));
  archive.write("has_best", c10::IValue(has_best_));
  archive.write("best_metric", c10::IValue(best_metric_));
  archive.write("evals_since_best", c10::IValue(evals_since_best_));
  archive.write("skipped_steps", c10::IValue(skipped_steps_));
  archive.write("world_size", c10::IValue(static_cast<int64_t>(world_size())));
  save_archive(archive, path);
}

void Trainer::load_checkpoint(const std::string& path) {
  torch::serialize::InputArchive archive, model_archive, optim_archive;
  load_archive(archive, path);
  try {
    archive.read("model", model_archive);
    load_module_checked(task_.model(), model_archive, path);
    archive.read("optimizer", optim_archive);
    optimizer_->load(optim_archive);
    step_ = read_int(archive, "step");
    c10::IValue has_best;
    archive.read("has_best", has_best);
    has_best_ = has_best.toBool();
    best_metric_ = read_double(archive, "best_metric");
    evals_since_best_ = read_int(archive, "evals_since_best");
    skipped_steps_ = read_int(archive, "skipped_steps");
    check_world_size(path, archive, world_size());
  } catch (const c10::Error& e) {
    throw UserError(path + ": checkpoint does not fit this run (" + e.what_without_backtrace() +
                    ")");
  }
  task_.model().to(device_);
}

}  // namespace zoo
