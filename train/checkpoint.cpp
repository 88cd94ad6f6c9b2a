// Checkpoint files: Trainer::save_checkpoint / load_checkpoint, model weights alone, and the
// atomic archive writer they share.
#include "train/checkpoint.h"

#include <filesystem>

#include "io/atomic_file.h"
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
  if (!fs::exists(path)) throw UserError(path + ": no such checkpoint");
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

}  // namespace

void load_model_weights(torch::nn::Module& model, const std::string& path) {
  torch::serialize::InputArchive archive, model_archive;
  load_archive(archive, path);
  try {
    archive.read("model", model_archive);
    model.load(model_archive);
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
    task_.model().load(model_archive);
    archive.read("optimizer", optim_archive);
    optimizer_->load(optim_archive);
    step_ = read_int(archive, "step");
    c10::IValue has_best;
    archive.read("has_best", has_best);
    has_best_ = has_best.toBool();
    best_metric_ = read_double(archive, "best_metric");
    evals_since_best_ = read_int(archive, "evals_since_best");
    skipped_steps_ = read_int(archive, "skipped_steps");
    c10::IValue saved_world;
    const int64_t saved_world_size = archive.try_read("world_size", saved_world) ? saved_world.toInt() : 1;
    if (saved_world_size != world_size())
      throw UserError(path + ": written by a job of " + std::to_string(saved_world_size) +
                      " rank(s), resumed with " + std::to_string(world_size()) +
                      "; resume with the same WORLD_SIZE (each rank's share of the data depends on it)");
  } catch (const c10::Error& e) {
    throw UserError(path + ": checkpoint does not fit this run (" + e.what_without_backtrace() +
                    ")");
  }
  task_.model().to(device_);
}

}  // namespace zoo
