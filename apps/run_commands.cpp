// Commands on a run directory that exists: zoo eval and zoo export, and what they share with
// zoo train and zoo predict (the saved config, resolving it, opening the trained task).
#include "apps/run_commands.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>

#include "apps/command_options.h"
#include "io/atomic_file.h"
#include "io/json_text.h"
#include "train/memory_check.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

Json saved_config(const std::string& run_dir) {
  const std::string path = run_dir + "/config.json";
  if (!fs::exists(path)) throw UserError(run_dir + ": not a run directory (no config.json)");
  Json j = read_json_file(path);
  j.erase("run_info");
  return j;
}

namespace {

// Leaves of a config as dotted keys ("optim.lr").
void flatten(const Json& j, const std::string& prefix, std::map<std::string, Json>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [key, value] : j.items()) flatten(value, prefix.empty() ? key : prefix + "." + key, out);
    return;
  }
  out[prefix] = j;
}

}  // namespace

Json started_with(const std::string& run_dir) {
  const Json j = read_json_file(run_dir + "/config.json");
  const Json* info = j.is_object() && j.contains("run_info") ? &j["run_info"] : nullptr;
  return info && info->is_object() && info->contains("started_with") ? (*info)["started_with"] : Json();
}

void check_settings_since_start(const std::string& run_dir, const Config& now, bool resuming) {
  const Json start = started_with(run_dir);
  if (!start.is_object()) return;  // a run of an older zoo
  std::map<std::string, Json> before, after;
  flatten(start, "", before);
  flatten(now.values(), "", after);
  std::string changed;
  for (const auto& [key, old_value] : before) {
    const auto it = after.find(key);
    if (it == after.end() || it->second == old_value) continue;
    // The checkpoints hold the model the run started with: another shape or checkpoint would
    // fail to load or, worse, load and be exported with a meta.json that lies.
    if (key == "task" || key.rfind("model.", 0) == 0 || key.rfind("init.", 0) == 0)
      throw UserError(run_dir + "/config.json: " + key + " is " + json_excerpt(it->second) + " but the run started with " +
                      json_excerpt(old_value) + ": its checkpoints hold that model (start a new run for another)");
    if (resuming && key != "train.max_steps")
      changed += (changed.empty() ? "" : ", ") + key + " " + json_excerpt(old_value) + " -> " + json_excerpt(it->second);
  }
  if (!changed.empty())
    std::cout << "resume: settings changed since the run started: " << changed
              << " (a resumed run repeats the uninterrupted one exactly only with the settings it started with)\n";
}

RunContext resolve(const Json& base, const std::string& origin, const std::vector<std::string>& sets) {
  if (!base.contains("task") || !base["task"].is_string())
    throw UserError(origin + ": missing \"task\" (one of the names `zoo tasks` lists)");
  RunContext ctx;
  ctx.entry = &find_task(base["task"].get<std::string>());
  ctx.config = Config(ctx.entry->defaults());
  ctx.config.merge(base, origin);
  for (const auto& s : sets) ctx.config.set(s);
  return ctx;
}

std::unique_ptr<Task> open_run(const std::string& run_dir, const std::vector<std::string>& sets,
                               std::unique_ptr<RunLock>& lock, const std::string& command, TaskData data,
                               torch::Device* device_out, Config* config_out) {
  const Json saved = saved_config(run_dir);
  lock = std::make_unique<RunLock>(run_dir, RunLock::Mode::kShared, command);
  RunContext ctx = resolve(saved, run_dir + "/config.json", sets);
  check_settings_since_start(run_dir, ctx.config, /*resuming=*/false);
  const torch::Device device = configure_runtime(train_options(ctx.config));
  auto task = ctx.entry->create(ctx.config, run_dir, data);
  const std::string best = run_dir + "/checkpoints/best.pt", last = run_dir + "/checkpoints/last.pt";
  load_model_weights(task->model(), fs::exists(best) ? best : last);
  task->model().to(device);
  task->model().eval();
  if (device_out) *device_out = device;
  if (config_out) *config_out = ctx.config;
  return task;
}

void write_data_report(const Task& task, const std::string& run_dir) {
  const Json report = task.data_report();
  if (report.empty()) return;
  size_t skipped = 0;
  for (const auto& split : report) skipped += split.at("skipped").size();
  write_json_file(run_dir + "/data_report.json", report);
  std::cout << "data: " << skipped << " samples could not be read and were skipped (each named in " << run_dir
            << "/data_report.json)\n";
}

void print_metrics(const Metrics& m) {
  for (const auto& [k, v] : m) std::cout << "  " << std::left << std::setw(16) << k << " " << v << "\n";
}

namespace {

std::string required_run(const cxxopts::ParseResult& args) {
  if (!args.count("run")) throw UserError("--run DIR is required");
  return args["run"].as<std::string>();
}

}  // namespace

int eval_command(int argc, char** argv) {
  auto o = command_options("zoo eval", "Evaluate a run's best checkpoint; writes DIR/eval_<split>.json.");
  o.add_options()("run", "run directory", cxxopts::value<std::string>())(
      "split", "held-out split", cxxopts::value<std::string>()->default_value("val"))(
      "set", "override a key (e.g. data paths), repeatable", cxxopts::value<std::vector<std::string>>());
  const auto args = parse_command_line(o, argc, argv);
  const std::string run_dir = required_run(args);
  const std::string split = args["split"].as<std::string>();
  std::vector<std::string> sets;
  if (args.count("set")) sets = args["set"].as<std::vector<std::string>>();
  torch::Device device = torch::kCPU;
  std::unique_ptr<RunLock> lock;
  Config config{Json::object()};
  auto task = open_run(run_dir, sets, lock, "zoo eval", TaskData::kLoad, &device, &config);
  // The same check as zoo train's, for an eval.batch_size given here with --set.
  if (train_options(config).memory_check && device.is_cpu())
    check_memory(*task, 0, eval_batch_size(config.values()), 1, /*training=*/false);
  const Metrics m = evaluate_task(*task, split, device);
  write_json_file(run_dir + "/eval_" + split + ".json", Json(m));
  write_data_report(*task, run_dir);
  std::cout << "eval (" << split << "):\n";
  print_metrics(m);
  return 0;
}

int export_command(int argc, char** argv) {
  auto o = command_options("zoo export", "Export a run's best model to DIR/export.");
  o.add_options()("run", "run directory", cxxopts::value<std::string>())(
      "set", "override a key (e.g. data paths), repeatable", cxxopts::value<std::vector<std::string>>());
  const auto args = parse_command_line(o, argc, argv);
  const std::string run_dir = required_run(args);
  std::vector<std::string> sets;
  if (args.count("set")) sets = args["set"].as<std::vector<std::string>>();
  std::unique_ptr<RunLock> lock;
  auto task = open_run(run_dir, sets, lock, "zoo export", TaskData::kNone);
  task->model().to(torch::kCPU);  // exported files are device-neutral CPU tensors
  // All or nothing: built in a temporary directory and swapped in for the old export in one step,
  // so a kill or a full disk leaves the previous export whole and a reader never sees a mix.
  const std::string target = run_dir + "/export";
  remove_abandoned_directories(target);
  const std::string tmp = temporary_directory(target);
  try {
    task->export_model(tmp);
    replace_directory(tmp, target);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  std::cout << "exported to " << run_dir << "/export\n";
  return 0;
}

}  // namespace zoo
