#pragma once
// What the trainer shows in TensorBoard (train.tensorboard): an events file in the run directory
// (io/tensorboard.h), so `tensorboard --logdir runs` lists each run by its directory's name.
//   train/<key>       every number of a training log line: loss, loss/<term>, lr, grad_norm,
//                     samples_per_s
//   val/<metric>      every metric of an evaluation
//   pictures/<name>   the PNGs an evaluation drew in DIR/plots (examples, PCK curves, proposals)
//   config            the resolved DIR/config.json, as text
// and in DIR/hparams, a run of its own: the HParams tab's session, the config's values, and at
// the end of training the last evaluation's val/<metric> and the last train/loss, its metric
// columns. The session cannot share DIR's run: with `--logdir DIR` that run is named ".", and
// the plugin then looks for the metrics in run "./." (it joins the session's name with the
// metric's group, "." for the session's own run), so every metric cell stays empty.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "io/tensorboard.h"
#include "train/config.h"
#include "train/task.h"

namespace zoo {

// The config's values as hparams: "section.key" -> number, bool or string (lists and objects as
// their JSON text); run_info, which describes the machine rather than the run, is left out.
std::map<std::string, TensorBoardWriter::HParam> config_hparams(const Json& config);

class TensorBoardLog {
 public:
  // first_step: the first step this process trains (0 for a new run, the checkpoint's step + 1
  // when resuming). A new run also writes the config text and the hparams session from
  // DIR/config.json when there is one; a resumed run keeps the ones it wrote then.
  TensorBoardLog(const std::string& run_dir, int64_t first_step);

  void train_record(const Json& record);
  // Call before an evaluation; evaluation() then adds the pictures it drew.
  void before_evaluation();
  void evaluation(int64_t step, const Metrics& metrics);
  // The end of training (not an interruption): the hparams session's metrics and status.
  void finished(int64_t step);

 private:
  std::map<std::filesystem::path, std::filesystem::file_time_type> pictures() const;

  std::string plots_dir_;
  TensorBoardWriter writer_;
  // DIR/hparams, when DIR has a config.json (its session start is written now, or was before a
  // resume).
  std::optional<TensorBoardWriter> session_;
  // What finished() reports: the last evaluation and the last training loss of this process.
  Metrics last_metrics_;
  int64_t last_eval_step_ = -1, last_loss_step_ = -1;
  double last_loss_ = 0;
  std::map<std::filesystem::path, std::filesystem::file_time_type> pictures_before_;
};

}  // namespace zoo
