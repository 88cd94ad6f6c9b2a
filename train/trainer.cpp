#include "train/trainer.h"

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <thread>

#include "io/atomic_file.h"
#include "train/checkpoint.h"
#include "train/free_cores.h"
#include "train/stop_signal.h"
#include "io/torch_compat.h"
#include "train/plot.h"
#include "train/tensorboard_log.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

// One seed per (run seed, step): dropout and any other randomness inside a step depend on
// nothing else, so a resumed run replays exactly what the uninterrupted one did.
uint64_t step_seed(int64_t seed, int64_t step) {
  uint64_t x = static_cast<uint64_t>(seed) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(step);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

std::string format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", static_cast<long>(s / 3600), static_cast<long>(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", static_cast<long>(s / 60), static_cast<long>(s % 60));
  return buf;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 1e-3 && std::fabs(v) < 1e5 ? "%.4f" : "%.3e", v);
  return buf;
}

// Data-parallel: sums the ranks' bookkeeping (total loss weight, non-finite flags, weighted loss
// terms) and then their loss-weighted gradients, and divides by the total weight, so that every
// rank holds the gradient of the global batch's mean loss and takes the same decision (step,
// skip or stop) even when only one rank saw a non-finite loss.
void reduce_across_ranks(ProcessGroup& group, const torch::Device& device, std::vector<torch::Tensor>& params,
                         double& total_weight, std::map<std::string, double>& weighted_terms,
                         std::string& nonfinite, bool& stop) {
  // stop: whether any rank was asked to stop (a signal); all ranks then stop after this step.
  std::vector<double> stats{total_weight, nonfinite.empty() ? 0.0 : 1.0, stop_signal() != 0 ? 1.0 : 0.0};
  for (const auto& [name, sum] : weighted_terms) stats.push_back(sum);
  std::vector<torch::Tensor> reduced{torch::tensor(stats, torch::kFloat64).to(device)};
  group.allreduce_sum(reduced);
  const torch::Tensor r = reduced[0].cpu();
  const double* v = r.data_ptr<double>();
  total_weight = v[0];
  if (v[1] > 0 && nonfinite.empty()) nonfinite = " on another rank";
  stop = v[2] > 0;
  size_t i = 3;
  for (auto& [name, sum] : weighted_terms) sum = v[i++];
  if (!nonfinite.empty() || total_weight == 0.0) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (auto& p : params) {
    if (!p.requires_grad()) continue;
    // A parameter this rank's batch did not reach still takes part, with a zero gradient.
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  allreduce_sum_bucketed(group, grads);
  for (auto& g : grads) g.div_(total_weight);
}

}  // namespace

Trainer::Trainer(Task& task, TrainOptions train, OptimOptions optim, ScheduleOptions schedule,
                 std::string run_dir, torch::Device device, ProcessGroup* group)
    : task_(task),
      opt_(std::move(train)),
      optim_opt_(std::move(optim)),
      schedule_(std::move(schedule)),
      run_dir_(std::move(run_dir)),
      device_(device),
      group_(group),
      bf16_(uses_bf16_autocast(opt_, device_)) {
  task_.model().to(device_);
  if (group_ != nullptr) {
    broadcast_module_state(*group_, task_.model());
    task_.set_train_batch_stride(group_->world_size());
  }
  optimizer_ = make_optimizer(optim_opt_, task_.model());
}

Metrics evaluate_task(Task& task, const std::string& split, const torch::Device& device) {
  torch::nn::Module& model = task.model();
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  auto evaluator = task.make_evaluator(split);
  evaluator->reset();
  for (const Batch& batch : task.eval_batches(split)) {
    const Batch on_device = to_device(batch, device);
    evaluator->process(on_device, task.predict(on_device));
  }
  model.train(was_training);
  return evaluator->summarize();
}

Metrics Trainer::evaluate(const std::string& split) { return evaluate_task(task_, split, device_); }

bool Trainer::train_step(std::map<std::string, double>& loss_sums) {
  const int64_t world = world_size(), rank = group_ == nullptr ? 0 : group_->rank();
  // Per rank, so that the ranks' dropout masks differ as their batches do.
  torch::manual_seed(step_seed(opt_.seed, step_ * world + rank));
  if (group_ != nullptr) broadcast_buffers(*group_, task_.model());
  // set_to_none: backward writes fresh gradients instead of adding into zeroed ones.
  task_.model().zero_grad(/*set_to_none=*/true);
  double total_weight = 0.0;
  std::map<std::string, double> weighted_terms;
  std::string nonfinite;
  for (int64_t k = 0; k < opt_.accum_steps; ++k) {
    const Batch batch = to_device(task_.train_batch((step_ * opt_.accum_steps + k) * world + rank), device_);
    StepLosses out;
    {
      // The training forward under bf16 autocast, as torch.autocast does it: matrix products in
      // bfloat16, weights and everything after the forward in fp32.
      compat::AutocastScope autocast(bf16_, device_.type(), torch::kBFloat16);
      out = task_.training_step(batch);
    }
    torch::Tensor loss;
    for (const auto& [name, term] : out.terms) {
      const double value = term.item<double>();
      if (!std::isfinite(value)) nonfinite += " " + name + "=" + std::to_string(value);
      weighted_terms[name] += value * out.weight;
      loss = loss.defined() ? loss + term : term;
    }
    if (!nonfinite.empty()) break;
    total_weight += out.weight;
    // With accumulation each micro-batch's mean loss is weighted by its unit count and the
    // summed gradient divided by the total below: the large batch's mean, exactly.
    (opt_.accum_steps == 1 && group_ == nullptr ? loss : loss * out.weight).backward();
  }
  std::vector<torch::Tensor> params = task_.model().parameters();
  if (group_ != nullptr) {
    reduce_across_ranks(*group_, device_, params, total_weight, weighted_terms, nonfinite, ranks_stop_);
  } else if (nonfinite.empty() && opt_.accum_steps > 1 && total_weight > 0) {
    torch::NoGradGuard no_grad;
    for (auto& p : params)
      if (p.grad().defined()) p.grad().div_(total_weight);
  }
  if (nonfinite.empty()) {
    const double max_norm = opt_.grad_clip_norm > 0 ? opt_.grad_clip_norm
                                                    : std::numeric_limits<double>::infinity();
    last_grad_norm_ = torch::nn::utils::clip_grad_norm_(params, max_norm);
    if (!std::isfinite(last_grad_norm_))
      nonfinite = " grad_norm=" + std::to_string(last_grad_norm_);
  }
  if (!nonfinite.empty()) {
    const std::string what =
        "step " + std::to_string(step_ + 1) + ": non-finite loss or gradient:" + nonfinite;
    if (opt_.on_nonfinite == "skip") {
      task_.model().zero_grad(/*set_to_none=*/true);
      ++skipped_steps_;
      if (is_main() || nonfinite.find("another rank") == std::string::npos)
        std::cerr << "\nwarning: " << what << "; step skipped (train.on_nonfinite=skip)\n";
      return false;
    }
    const std::string last = run_dir_ + "/checkpoints/last.pt";
    throw UserError(what + "; training stopped" +
                    (fs::exists(last) ? ", the last good checkpoint " + last + " is intact"
                                      : std::string(", no checkpoint was written yet")) +
                    " (set train.on_nonfinite=skip to skip such steps)");
  }
  if (total_weight == 0.0) return false;  // nothing to learn from in this step
  set_learning_rate(*optimizer_, learning_rate(schedule_, optim_opt_.lr, step_, opt_.max_steps));
  optimizer_->step();
  for (const auto& [name, sum] : weighted_terms) loss_sums[name] += sum / total_weight;
  return true;
}

TrainResult Trainer::fit(bool resume, int64_t stop_after) {
  const std::string ckpt_dir = run_dir_ + "/checkpoints";
  const bool main = is_main();  // only rank 0 prints and writes files
  if (main) {
    fs::create_directories(ckpt_dir);
    // Temporary files a killed or failed save left behind (the run directory is ours alone).
    remove_stale_temporaries(run_dir_);
    remove_stale_temporaries(ckpt_dir);
  }
  const std::string last_path = ckpt_dir + "/last.pt";
  const std::string best_path = ckpt_dir + "/best.pt";
  if (resume) {
    if (!fs::exists(last_path)) throw UserError(last_path + ": nothing to resume from");
    load_checkpoint(last_path);
    if (main) std::cout << "resumed from " << last_path << " at step " << step_ << "\n";
  }
  if (main && bf16_)
    std::cout << "precision: bf16 autocast in the training forward (train.precision=" << opt_.precision << ")\n";
  if (main && bf16_ && device_.is_cpu() && !cpu_has_native_bf16())
    std::cerr << "warning: train.precision=bf16 on a CPU without native bf16 (AVX512-BF16): its matrix "
                 "products are emulated and slower than fp32; use fp32 or auto\n";
  std::optional<MetricsLog> log;
  if (main) log.emplace(run_dir_ + "/metrics.jsonl", step_);
  // A resumed run logs from the step after its checkpoint's: what an interrupted process logged
  // after the checkpoint is dropped, as metrics.jsonl drops it.
  std::optional<TensorBoardLog> board;
  if (main && opt_.tensorboard) board.emplace(run_dir_, resume ? step_ + 1 : 0);
  const PrimaryMetric primary = task_.primary_metric();
  const bool tty = ::isatty(STDOUT_FILENO);
  const int64_t samples_per_step = opt_.batch_size * opt_.accum_steps * world_size();  // all ranks
  task_.model().train();

  TrainResult result;
  std::map<std::string, double> loss_sums;
  int64_t window_steps = 0;
  auto window_start = std::chrono::steady_clock::now();
  const auto run_start = window_start;
  const int64_t first_step = step_;
  // Wall time of the run (training, evaluation and checkpoints) in every metrics line, for
  // curves over time; a resumed run continues the axis.
  const double elapsed_before = main ? log->elapsed_before() : 0.0;
  const auto elapsed_s = [&] {
    return elapsed_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  };

  auto run_eval = [&]() {
    if (group_ != nullptr) broadcast_buffers(*group_, task_.model());  // evaluate rank 0's model
    if (board) board->before_evaluation();
    const Metrics m = evaluate("val");
    result.final_metrics = m;
    Json record = {{"step", step_}, {"split", "val"}, {"elapsed_s", elapsed_s()}};
    std::ostringstream line;
    line << "eval step " << step_ << ":";
    for (const auto& [k, v] : m) {
      record[k] = v;
      line << " " << k << "=" << format_number(v);
    }
    const auto it = m.find(primary.name);
    if (it == m.end()) throw std::logic_error("task did not report its primary metric " + primary.name);
    const bool is_best = !has_best_ || primary.better(it->second, best_metric_);
    // Which metric picks the best checkpoint and whether this evaluation is the new best: what
    // `zoo compare` reads, without knowing the task.
    record["primary"] = primary.name;
    record["is_best"] = is_best;
    if (main) log->write(record);
    if (board) board->evaluation(step_, m);
    if (is_best) {
      has_best_ = true;
      best_metric_ = it->second;
      evals_since_best_ = 0;
      torch::serialize::OutputArchive archive, model_archive;
      task_.model().save(model_archive);
      archive.write("model", model_archive);
      archive.write("step", c10::IValue(step_));
      archive.write("metric", c10::IValue(best_metric_));
      if (main) save_archive(archive, best_path);
      line << " (best " << primary.name << ")";
    } else {
      ++evals_since_best_;
    }
    if (main) std::cout << (tty ? "\r\033[K" : "") << line.str() << std::endl;
  };

  if (opt_.max_steps == 0) {
    run_eval();
    if (main) save_checkpoint(last_path);
  }
  // train.threads=0: LibTorch's threads follow the cores other processes leave free.
  std::optional<FreeCoreThreads> free_cores;
  if (opt_.threads == 0 && device_.is_cpu())
    free_cores.emplace(torch::get_num_threads(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  while (step_ < opt_.max_steps) {
    if (free_cores) {
      const int before = torch::get_num_threads(), threads = free_cores->update();
      if (main && threads != before)
        std::cout << (tty ? "\r\033[K" : "") << "threads: " << before << " -> " << threads
                  << (threads < before ? " (other processes are using cores)" : " (cores are free again)") << std::endl;
    }
    const bool stepped = train_step(loss_sums);
    ++step_;
    window_steps += stepped;
    const bool last = step_ == opt_.max_steps;
    if (main && (step_ % opt_.log_every_steps == 0 || last)) {
      const auto now = std::chrono::steady_clock::now();
      const double window_s = std::chrono::duration<double>(now - window_start).count();
      const double total_s = std::chrono::duration<double>(now - run_start).count();
      const double eta = total_s / static_cast<double>(step_ - first_step) *
                         static_cast<double>(opt_.max_steps - step_);
      const double lr = learning_rate(schedule_, optim_opt_.lr, step_ - 1, opt_.max_steps);
      Json record = {{"step", step_}, {"split", "train"}, {"elapsed_s", elapsed_s()}, {"lr", lr},
                     {"grad_norm", last_grad_norm_}, {"threads", torch::get_num_threads()},
                     {"samples_per_s", samples_per_step * window_steps / std::max(window_s, 1e-9)}};
      std::ostringstream line;
      line << "step " << step_ << "/" << opt_.max_steps;
      double total = 0.0;
      for (const auto& [name, sum] : loss_sums) {
        const double mean = sum / std::max<int64_t>(1, window_steps);
        record["loss/" + name] = mean;
        total += mean;
        if (loss_sums.size() > 1) line << " " << name << "=" << format_number(mean);
      }
      record["loss"] = total;
      if (skipped_steps_ > 0) record["skipped_steps"] = skipped_steps_;
      line << " loss=" << format_number(total) << " lr=" << format_number(lr) << " "
           << static_cast<int64_t>(record["samples_per_s"].get<double>()) << " samples/s ETA "
           << format_duration(eta);
      log->write(record);
      if (board) board->train_record(record);
      if (tty)
        std::cout << "\r\033[K" << line.str() << std::flush;
      else
        std::cout << line.str() << std::endl;
      loss_sums.clear();
      window_steps = 0;
      window_start = now;
    }
    const bool eval_now = last || (opt_.eval_every_steps > 0 && step_ % opt_.eval_every_steps == 0);
    if (eval_now) run_eval();
    if (eval_now || step_ % kReleaseMemoryEverySteps == 0) release_freed_memory();
    const bool stop_early = opt_.early_stop_patience > 0 && eval_now &&
                            evals_since_best_ >= opt_.early_stop_patience;
    // A signal stops every rank after the same step: alone, the process's own flag; in a job,
    // the flag all ranks agreed on in this step's reduction.
    const bool signalled = group_ != nullptr ? ranks_stop_ : stop_signal() != 0;
    if (signalled) result.stop_signal = stop_signal() != 0 ? stop_signal() : SIGTERM;
    const bool interrupted = step_ == stop_after || signalled;
    if (main && (last || stop_early || interrupted ||
                 (opt_.ckpt_every_steps > 0 && step_ % opt_.ckpt_every_steps == 0)))
      save_checkpoint(last_path);
    if (stop_early) {
      if (main)
        std::cout << "early stop at step " << step_ << ": " << primary.name << " did not improve in "
                << evals_since_best_ << " evaluations (best " << format_number(best_metric_) << ")\n";
      result.early_stopped = true;
      break;
    }
    if (interrupted) break;
  }
  if (main && tty) std::cout << "\n";
  result.steps = step_;
  if (board && (step_ == opt_.max_steps || result.early_stopped)) board->finished(step_);
  if (main && opt_.plots && opt_.max_steps > 0 && (step_ == opt_.max_steps || result.early_stopped))
    plot_run_summary(run_dir_ + "/metrics.jsonl", run_dir_ + "/plots");
  return result;
}

}  // namespace zoo
