#include "train/tensorboard_log.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include "io/json_file.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

void flatten(const Json& value, const std::string& prefix, std::map<std::string, TensorBoardWriter::HParam>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, item] : value.items()) flatten(item, prefix.empty() ? key : prefix + "." + key, out);
  } else if (value.is_boolean()) {
    out[prefix] = value.get<bool>();
  } else if (value.is_number()) {
    out[prefix] = value.get<double>();
  } else if (value.is_string()) {
    out[prefix] = value.get<std::string>();
  } else {
    out[prefix] = value.dump();  // a list, an empty object or null
  }
}

// Markdown shows a block indented by four spaces as it is.
std::string as_code_block(const std::string& text) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) out += "    " + line + "\n";
  return out;
}

// A PNG the evaluators draw is a few hundred kB; the bound keeps a stray file out of the log.
constexpr std::uintmax_t kMaxPictureBytes = 32u << 20;

}  // namespace

std::map<std::string, TensorBoardWriter::HParam> config_hparams(const Json& config) {
  std::map<std::string, TensorBoardWriter::HParam> out;
  for (const auto& [key, value] : config.items())
    if (key != "run_info") flatten(value, key, out);
  return out;
}

TensorBoardLog::TensorBoardLog(const std::string& run_dir, int64_t first_step)
    : plots_dir_(run_dir + "/plots"), writer_(run_dir, first_step) {
  const std::string config_path = run_dir + "/config.json";
  if (!fs::exists(config_path)) return;
  session_.emplace(run_dir + "/hparams", first_step);
  if (first_step > 0) return;
  const Json config = read_json_file(config_path);
  writer_.text("config", as_code_block(config.dump(2)), 0);
  session_->hparams_start(config_hparams(config), 0);
}

void TensorBoardLog::train_record(const Json& record) {
  const int64_t step = record.at("step").get<int64_t>();
  for (const auto& [key, value] : record.items()) {
    // Bookkeeping, not a curve of the training: the step itself, wall time, skipped-step count,
    // the thread count.
    if (!value.is_number() || key == "step" || key == "elapsed_s" || key == "skipped_steps" || key == "threads")
      continue;
    writer_.scalar("train/" + key, value.get<double>(), step);
  }
  if (record.contains("loss")) {
    last_loss_ = record["loss"].get<double>();
    last_loss_step_ = step;
  }
}

std::map<fs::path, fs::file_time_type> TensorBoardLog::pictures() const {
  std::map<fs::path, fs::file_time_type> found;
  std::error_code ec;
  if (!fs::is_directory(plots_dir_, ec)) return found;
  for (const auto& entry : fs::directory_iterator(plots_dir_, ec))
    if (entry.is_regular_file(ec) && entry.path().extension() == ".png") found[entry.path()] = entry.last_write_time(ec);
  return found;
}

void TensorBoardLog::before_evaluation() { pictures_before_ = pictures(); }

void TensorBoardLog::evaluation(int64_t step, const Metrics& metrics) {
  for (const auto& [name, value] : metrics) writer_.scalar("val/" + name, value, step);
  last_metrics_ = metrics;
  last_eval_step_ = step;
  // The pictures this evaluation drew: new files, or files rewritten since before_evaluation.
  for (const auto& [path, time] : pictures()) {
    const auto before = pictures_before_.find(path);
    if (before != pictures_before_.end() && before->second == time) continue;
    if (fs::file_size(path) > kMaxPictureBytes) continue;
    std::ifstream in(path, std::ios::binary);
    const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    writer_.image_png("pictures/" + path.stem().string(), png, step);
  }
}

void TensorBoardLog::finished(int64_t step) {
  if (!session_) return;
  // The metric columns: the plugin shows each scalar tag of the session's run at its last step.
  // The same tags as DIR's curves, so a column is named as its chart.
  if (last_eval_step_ >= 0)
    for (const auto& [name, value] : last_metrics_) session_->scalar("val/" + name, value, last_eval_step_);
  if (last_loss_step_ >= 0) session_->scalar("train/loss", last_loss_, last_loss_step_);
  session_->hparams_end(/*success=*/true, step);
}

}  // namespace zoo
