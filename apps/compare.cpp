#include "apps/compare.h"

#include <iostream>

#include "apps/command_options.h"

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <set>

#include "io/error.h"
#include "train/metrics_log.h"
#include "train/plot.h"

namespace zoo {

namespace {

namespace fs = std::filesystem;

// Keys of a val record that are bookkeeping, not metrics.
bool is_metric_key(const std::string& key) {
  return key != "step" && key != "split" && key != "elapsed_s" && key != "primary" && key != "is_best";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string minutes(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f min", seconds / 60);
  return buf;
}

struct Run {
  std::string name;
  std::vector<Json> evals;  // val records, in order
  double elapsed_s = -1;    // of the last record of any kind; -1 when the log predates it
  int64_t steps = 0;
};

Run read_run(const std::string& dir) {
  const std::string path = dir + "/metrics.jsonl";
  if (!fs::exists(path)) throw UserError(dir + ": no metrics.jsonl (not a run directory, or it has not logged yet)");
  Run run;
  run.name = fs::path(dir).filename().string();
  if (run.name.empty()) run.name = fs::path(dir).parent_path().filename().string();
  for (const auto& r : read_metrics_log(path)) {
    run.steps = std::max(run.steps, r.value("step", int64_t{0}));
    if (r.contains("elapsed_s") && r["elapsed_s"].is_number()) run.elapsed_s = r["elapsed_s"].get<double>();
    if (r.value("split", std::string{}) == "val") run.evals.push_back(r);
  }
  if (run.evals.empty()) throw UserError(path + ": no evaluation recorded yet");
  return run;
}

}  // namespace

void compare_runs(const std::vector<std::string>& run_dirs, const CompareOptions& options, std::ostream& out) {
  if (run_dirs.empty()) throw UserError("zoo compare: give one or more run directories");
  std::vector<Run> runs;
  for (const auto& dir : run_dirs) runs.push_back(read_run(dir));
  std::string metric = options.metric;
  if (metric.empty()) metric = runs.front().evals.back().value("primary", std::string{});
  if (metric.empty())
    throw UserError(run_dirs.front() + "/metrics.jsonl: does not say which metric is primary (an older run): give --metric");

  // Columns: the compared metric first, then every other metric some run reports.
  std::set<std::string> others;
  for (const auto& run : runs)
    for (const auto& [key, value] : run.evals.back().items())
      if (is_metric_key(key) && key != metric && value.is_number()) others.insert(key);
  out << "| run | steps | wall time | " << metric << " (last) | best " << metric << " (step) |";
  for (const auto& k : others) out << " " << k << " (last) |";
  out << "\n|---|---|---|---|---|";
  for (size_t i = 0; i < others.size(); ++i) out << "---|";
  out << "\n";
  bool any_has_metric = false;
  std::vector<Series> curves;
  for (const auto& run : runs) {
    const Json& last = run.evals.back();
    const bool has = last.contains(metric) && last[metric].is_number();
    any_has_metric = any_has_metric || has;
    // The best is what the trainer marked (it knows the direction of its primary metric);
    // for another metric, or a log without marks, no best is claimed.
    std::string best = "—";
    for (const auto& e : run.evals)
      if (e.value("is_best", false) && e.value("primary", std::string{}) == metric && e.contains(metric))
        best = number(e[metric].get<double>()) + " (" + std::to_string(e.value("step", int64_t{0})) + ")";
    out << "| " << run.name << " | " << run.steps << " | " << (run.elapsed_s >= 0 ? minutes(run.elapsed_s) : "—")
        << " | " << (has ? number(last[metric].get<double>()) : "—") << " | " << best << " |";
    for (const auto& k : others)
      out << " " << (last.contains(k) && last[k].is_number() ? number(last[k].get<double>()) : "—") << " |";
    out << "\n";
    Series s{run.name, {}, {}};
    for (const auto& e : run.evals)
      if (e.contains(metric) && e[metric].is_number() && e.contains("elapsed_s")) {
        s.x.push_back(e["elapsed_s"].get<double>() / 60);
        s.y.push_back(e[metric].get<double>());
      }
    curves.push_back(std::move(s));
  }
  if (!any_has_metric) throw UserError("zoo compare: no run reports the metric '" + metric + "'");
  if (!options.plot_png.empty()) {
    size_t points = 0;
    for (const auto& s : curves) points += s.x.size();
    if (points == 0)
      throw UserError("zoo compare: no evaluation of '" + metric + "' has a wall time (runs logged before elapsed_s)");
    write_line_plot(options.plot_png, "val " + metric, "wall time (min)", curves);
    out << "wrote " << options.plot_png << "\n";
  }
}

int compare_command(int argc, char** argv) {
  auto o = command_options("zoo compare", "Runs side by side from their metrics.jsonl.");
  o.add_options()("metric", "held-out metric to compare (default: the runs' primary metric)",
                  cxxopts::value<std::string>()->default_value(""))(
      "plot", "PNG of the metric over wall time for every run", cxxopts::value<std::string>()->default_value(""))(
      "runs", "run directories", cxxopts::value<std::vector<std::string>>());
  o.parse_positional({"runs"});
  const auto args = o.parse(argc, argv);
  if (args.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  if (!args.count("runs")) throw UserError("zoo compare: give one or more run directories");
  compare_runs(args["runs"].as<std::vector<std::string>>(),
               {args["metric"].as<std::string>(), args["plot"].as<std::string>()}, std::cout);
  return 0;
}

}  // namespace zoo
