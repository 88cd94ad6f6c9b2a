#include "apps/cli.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <new>

#include "apps/command_options.h"
#include "apps/compare.h"
#include "apps/doctor.h"
#include "apps/launch.h"
#include "apps/predict.h"
#include "apps/run_commands.h"
#include "io/run_lock.h"
#include "train/checkpoint.h"
#include "train/cpu_kernels.h"
#include "train/distributed.h"
#include "train/memory_check.h"
#include "train/registry.h"
#include "train/run_info.h"
#include "train/trainer.h"
#include "train/stop_signal.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

const char* const kUsage =
    "usage: zoo <command> [options]\n"
    "commands:\n"
    "  tasks   [NAME]                      list tasks, or print NAME's full default config, each key documented\n"
    "  train   --config FILE [--set a.b=v]... [--out DIR] [--resume]\n"
    "  eval    --run DIR [--split val] [--set a.b=v]...\n"
    "  export  --run DIR                   TorchScript + Python-loadable weights in DIR/export\n"
    "  predict --run DIR INPUT...          task-specific, human-readable output (or --export DIR)\n"
    "  compare RUN... [--metric M] [--plot FILE.png]  runs side by side: table, curve over wall time\n"
    "  launch  --nproc N -- COMMAND...     N local ranks of a data-parallel job (torchrun convention)\n"
    "  doctor  [--out DIR]                 check this machine: LibTorch, BLAS, threads, memory, disk, CUDA\n"
    "run `zoo <command> --help` for the options of a command\n";

// How long a rank waits for the others: to join, and in any collective (rank 0 may spend minutes
// preparing the data before the first one). torch.distributed's default.
constexpr std::chrono::minutes kRendezvousTimeout{30};

int cmd_tasks(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) != "--help" && std::string(argv[1]) != "-h") {
    // The config, then one comment line per option: the output is a config file zoo reads.
    // The name as a variable: GCC 14's -Wdangling-reference takes a reference returned from a
    // call with a temporary argument for one into that temporary (the entry is a static).
    const std::string name = argv[1];
    const TaskEntry& task = find_task(name);
    std::cout << task.defaults().dump(2) << "\n";
    const std::vector<OptionDoc> docs = task.docs();
    size_t width = 0;
    for (const auto& d : docs) width = std::max(width, d.key.size());
    for (const auto& d : docs)
      std::cout << "// " << std::left << std::setw(static_cast<int>(width)) << d.key << "  " << d.doc
                << (d.rule.empty() ? "" : " (" + d.rule + ")") << "\n";
    return 0;
  }
  std::cout << "tasks (zoo tasks NAME prints the full default config; apps/configs/ has examples):\n";
  for (const auto& e : task_registry()) std::cout << "  " << std::left << std::setw(10) << e.name << e.summary << "\n";
  return 0;
}

int train_other_rank(RunContext& ctx, const TrainOptions& train, bool resume, const std::string& run_dir,
                     const torch::Device& device, ProcessGroup& group);

int cmd_train(int argc, char** argv, const std::optional<std::string>& fixed_task) {
  const std::string program = fixed_task ? "train_" + *fixed_task : "zoo train";
  auto o = command_options(program, "Train a model; the run directory gets config.json, metrics.jsonl, "
                                    "checkpoints/ and plots/.");
  o.add_options()("config", "JSON config (only what differs from `zoo tasks NAME`)", cxxopts::value<std::string>())(
      "set", "override a key: a.b=value (JSON value), repeatable", cxxopts::value<std::vector<std::string>>())(
      "out", "run directory (default runs/<task>-<time>)", cxxopts::value<std::string>())(
      "resume", "continue the run in --out from checkpoints/last.pt")(
      "device", "cpu, cuda or cuda:N (= --set train.device=...)", cxxopts::value<std::string>())(
      "threads", "LibTorch threads, 0 = the free cores (= --set train.threads=...)", cxxopts::value<int64_t>())(
      "seed", "one seed for init, data order and augmentation (= --set train.seed=...)", cxxopts::value<int64_t>());
  const auto args = o.parse(argc, argv);
  if (args.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  std::vector<std::string> sets;
  if (args.count("set")) sets = args["set"].as<std::vector<std::string>>();
  if (args.count("device")) sets.push_back("train.device=\"" + args["device"].as<std::string>() + "\"");
  if (args.count("threads")) sets.push_back("train.threads=" + std::to_string(args["threads"].as<int64_t>()));
  if (args.count("seed")) sets.push_back("train.seed=" + std::to_string(args["seed"].as<int64_t>()));
  const bool resume = args.count("resume") > 0;

  Json base;
  std::string origin;
  std::string run_dir = args.count("out") ? args["out"].as<std::string>() : "";
  if (resume) {
    if (run_dir.empty()) throw UserError("--resume needs --out DIR (the run to continue)");
    base = saved_config(run_dir);
    origin = run_dir + "/config.json";
  } else if (args.count("config")) {
    origin = args["config"].as<std::string>();
    base = read_json_file(origin);
    if (!base.is_object()) throw UserError(origin + ": a config must be a JSON object");
    if (fixed_task && !base.contains("task")) base["task"] = *fixed_task;
  } else if (fixed_task) {
    base = {{"task", *fixed_task}};
    origin = "defaults";
  } else {
    throw UserError("zoo train needs --config FILE (see `zoo tasks`)");
  }
  if (fixed_task && base.value("task", "") != *fixed_task)
    throw UserError(origin + ": task is '" + base.value("task", "") + "' but this is " + program);
  RunContext ctx = resolve(base, origin, sets);
  if (resume) check_settings_since_start(run_dir, ctx.config, /*resuming=*/true);
  const TrainOptions train = train_options(ctx.config);
  // Checked now, before any file is written (the trainer would reject them only later).
  const OptimOptions optim = optim_options(ctx.config);
  const ScheduleOptions schedule = schedule_options(ctx.config);
  const DistributedEnv env = distributed_env();
  if (resume) check_resume_world_size(run_dir + "/checkpoints/last.pt", env.enabled() ? env.world_size : 1);
  const torch::Device device = configure_runtime(train, env);
  if (env.enabled() && run_dir.empty())
    throw UserError("a data-parallel run (WORLD_SIZE=" + std::to_string(env.world_size) +
                    ") needs --out DIR: every rank must use the same run directory");
  std::unique_ptr<ProcessGroup> group;
  if (env.enabled()) group = ProcessGroup::connect(env, device, kRendezvousTimeout);
  if (env.rank > 0) return train_other_rank(ctx, train, resume, run_dir, device, *group);

  if (run_dir.empty()) {
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    run_dir = "runs/" + ctx.entry->name + "-" + stamp;
  }
  if (!resume && fs::exists(run_dir + "/checkpoints/last.pt"))
    throw UserError(run_dir + " already holds a run: pass --resume to continue it, or choose another --out");
  std::cout << program << ": task " << ctx.entry->name << ", run directory " << run_dir << ", "
            << torch::get_num_threads() << (torch::get_num_threads() == 1 ? " thread" : " threads")
            << (train.threads == 0 && device.is_cpu() ? " (fewer while other processes use cores)" : "")
            << ", device " << device.str();
  if (group) std::cout << ", rank 0 of " << group->world_size();
  std::cout << "\n";
  // What was chosen for this CPU without being asked: the BLAS kernel, and train.precision=auto.
  std::cout << "cpu: " << cpu_model_name();
  if (const std::string blas = blas_kernel_summary(); !blas.empty()) std::cout << ", " << blas;
  if (train.precision == "auto")
    std::cout << ", precision " << (uses_bf16_autocast(train, device) ? "bf16" : "fp32") << " (train.precision=auto: "
              << (cpu_has_native_bf16() ? "native bf16" : "no native bf16") << ")";
  std::cout << "\n";
  // From here a first Ctrl-C, SIGTERM or SIGHUP only asks to stop: a signal while the task is
  // set up (a checkpoint or data loading) must not leave a half-made run directory.
  install_stop_handlers();
  // One writer per run directory, locked before anything is written; a process that loses the
  // race leaves the directory alone (it may be the winner's new one).
  const bool new_dir = !fs::exists(run_dir);
  fs::create_directories(run_dir);
  RunLock lock(run_dir, RunLock::Mode::kExclusive, program + " train");
  if (!resume && fs::exists(run_dir + "/checkpoints/last.pt"))
    throw UserError(run_dir + " already holds a run: pass --resume to continue it, or choose another --out");
  // Build the task (which validates its sections and may write e.g. vocab.txt) before the run
  // directory gets its config: a rejected config leaves no half-made run behind.
  std::unique_ptr<Task> task;
  try {
    task = ctx.entry->create(ctx.config, run_dir, TaskData::kLoad);
    // On the CPU: a GPU's memory is not what /proc/meminfo counts. Evaluation runs even at
    // train.max_steps=0 (a checkpoint evaluated as it is).
    if (train.memory_check && device.is_cpu())
      check_memory(*task, train.max_steps > 0 ? train.batch_size : 0, eval_batch_size(ctx.config.values()),
                   env.enabled() ? env.local_world_size : 1, /*training=*/train.max_steps > 0);
  } catch (...) {
    if (new_dir) fs::remove_all(run_dir);
    throw;
  }
  if (const int sig = stop_signal(); sig != 0) {
    if (new_dir) fs::remove_all(run_dir);
    std::cout << "stopped before training started (" << strsignal(sig) << ")"
              << (new_dir ? "; " + run_dir + " removed" : "; the run is as it was") << std::endl;
    return 128 + sig;
  }
  ctx.config.merge(task->resolved_settings(), "the task's resolved settings");
  Json resolved = ctx.config.values();
  // What the run started with stays as it was, so that an edited config.json is noticed.
  Json start = resume ? started_with(run_dir) : Json();
  if (start.is_null()) start = resolved;
  resolved["run_info"] = run_info(device.str());
  resolved["run_info"]["started_with"] = start;
  if (group) resolved["run_info"]["world_size"] = group->world_size();
  write_json_file(run_dir + "/config.json", resolved);
  if (group) group->barrier();  // the run directory is ready for the other ranks
  Trainer trainer(*task, train, optim, schedule, run_dir, device, group.get());
  const TrainResult result = trainer.fit(resume);
  write_data_report(*task, run_dir);
  if (result.stop_signal != 0) {
    std::cout << "stopped at step " << result.steps << " (" << strsignal(result.stop_signal)
              << "); resume with: zoo train --resume --out " << run_dir << std::endl;
    return 128 + result.stop_signal;
  }
  std::cout << "held-out metrics (val) after " << result.steps << " steps:\n";
  print_metrics(result.final_metrics);
  std::cout << "run directory: " << run_dir << "\n";
  return 0;
}

// Rank r > 0 of a data-parallel job: it waits until rank 0 has checked the config and prepared
// the run directory, then builds its task in a scratch directory seeded with rank 0's files
// (vocab.txt, pose statistics), so that no two processes ever write the same file; the trainer
// reads and writes nothing in the run directory but the checkpoint it resumes from.
int train_other_rank(RunContext& ctx, const TrainOptions& train, bool resume, const std::string& run_dir,
                     const torch::Device& device, ProcessGroup& group) {
  group.barrier();
  const std::string scratch = run_dir + "/.rank" + std::to_string(group.rank());
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  // Removed however this rank ends: a refused or failed run leaves no scratch directory behind.
  struct RemoveScratch {
    std::string path;
    ~RemoveScratch() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } remove_scratch{scratch};
  for (const auto& entry : fs::directory_iterator(run_dir))
    if (entry.is_regular_file()) fs::copy_file(entry.path(), scratch + "/" + entry.path().filename().string());
  const Json& values = ctx.config.values();
  if (values.contains("eval") && values["eval"].contains("pictures")) ctx.config.set("eval.pictures=false");
  auto task = ctx.entry->create(ctx.config, scratch, TaskData::kLoad);
  Trainer trainer(*task, train, optim_options(ctx.config), schedule_options(ctx.config), run_dir, device, &group);
  install_stop_handlers();
  const TrainResult result = trainer.fit(resume);
  return result.stop_signal != 0 ? 128 + result.stop_signal : 0;
}

}  // namespace

int run_cli(int argc, char** argv, const std::optional<std::string>& fixed_task) {
  std::string program = fixed_task ? "train_" + *fixed_task : "zoo";
  // Under a launcher several ranks share one terminal: their errors say which rank they are.
  if (const char* rank = std::getenv("RANK"); rank != nullptr && *rank != '\0' && std::getenv("WORLD_SIZE") != nullptr &&
                                             std::string(std::getenv("WORLD_SIZE")) != "1")
    program += " (rank " + std::string(rank) + ")";
  try {
    if (fixed_task) return cmd_train(argc, argv, fixed_task);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
      std::cout << kUsage;
      return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    if (command == "tasks") return cmd_tasks(argc - 1, argv + 1);
    if (command == "train") return cmd_train(argc - 1, argv + 1, std::nullopt);
    if (command == "eval") return eval_command(argc - 1, argv + 1);
    if (command == "export") return export_command(argc - 1, argv + 1);
    if (command == "predict") return predict_command(argc - 1, argv + 1);
    if (command == "launch") return launch_command(argc - 1, argv + 1);
    if (command == "doctor") return doctor_command(argc - 1, argv + 1);
    if (command == "compare") return compare_command(argc - 1, argv + 1);
    throw UserError("unknown command '" + command + "' (tasks, train, eval, export, predict, compare, launch, doctor)");
  } catch (const c10::Error& e) {
    // LibTorch errors carry a C++ backtrace; the first line is what a user needs.
    std::string what = e.what_without_backtrace();
    std::cerr << program << ": error: " << what.substr(0, what.find('\n')) << "\n";
  } catch (const std::bad_alloc&) {
    std::cerr << program << ": error: out of memory; a smaller train.batch_size or eval.batch_size (or model) may fit\n";
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << program << ": error: " << e.what() << " (see --help)\n";
  } catch (const std::exception& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace zoo
