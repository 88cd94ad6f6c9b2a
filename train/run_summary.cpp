// plot_run_summary (train/plot.h): which of metrics.jsonl's columns a run's summary figure shows.
#include <algorithm>
#include <filesystem>
#include <map>

#include "train/metrics_log.h"
#include "train/plot.h"

namespace zoo {

namespace {

void add_point(Series& s, const Json& record, const std::string& key) {
  if (!record.contains(key) || !record[key].is_number()) return;
  s.x.push_back(record.value("step", 0.0));
  s.y.push_back(record[key].get<double>());
}

// How an evaluator names a baseline of metric M: a prefix and M (mean_pose_mpjpe_mm,
// random_ar100, untrained_ar100); the legend shows the prefix in words.
std::string baseline_label(const std::string& key, const std::string& metric) {
  if (key.size() <= metric.size() + 1 || key.compare(key.size() - metric.size(), metric.size(), metric) != 0 ||
      key[key.size() - metric.size() - 1] != '_')
    return "";
  std::string label = key.substr(0, key.size() - metric.size() - 1);
  // Only the evaluators' baselines: pa_mpjpe_mm is another metric, not a baseline of mpjpe_mm.
  if (label != "mean_pose" && label != "random" && label != "untrained") return "";
  std::replace(label.begin(), label.end(), '_', ' ');
  return label;
}

}  // namespace

std::vector<Panel> run_summary_panels(const std::vector<Json>& records) {
  std::string primary;
  std::vector<std::string> train_terms;
  for (const auto& r : records) {
    if (r.value("split", "") == "val" && r.contains("primary")) primary = r["primary"].get<std::string>();
    if (r.value("split", "") == "train" && train_terms.empty())
      for (const auto& [key, value] : r.items())
        if (key.rfind("loss/", 0) == 0) train_terms.push_back(key.substr(5));
  }
  // The validation loss: the evaluator's "loss", else the sum of the metrics named as the
  // training loss's terms (sts regression: mse), else none (a held-out loss is not every
  // task's measure: keypoints reports MPJPE).
  Series train_loss{"train", {}, {}}, val_loss{"validation", {}, {}}, lr{"learning rate", {}, {}};
  Series metric{primary, {}, {}};
  std::map<std::string, Series> baselines;
  for (const auto& r : records) {
    const std::string split = r.value("split", "");
    if (split == "train") {
      add_point(train_loss, r, "loss");
      add_point(lr, r, "lr");
      continue;
    }
    if (split != "val") continue;
    if (r.contains("loss")) {
      add_point(val_loss, r, "loss");
    } else if (!train_terms.empty()) {
      double sum = 0;
      bool all = true;
      for (const auto& t : train_terms) {
        all = all && r.contains(t) && r[t].is_number();
        if (all) sum += r[t].get<double>();
      }
      if (all) {
        val_loss.x.push_back(r.value("step", 0.0));
        val_loss.y.push_back(sum);
      }
    }
    if (primary.empty()) continue;
    add_point(metric, r, primary);
    for (const auto& [key, value] : r.items()) {
      const std::string label = baseline_label(key, primary);
      if (label.empty() || !value.is_number()) continue;
      Series& b = baselines[key];
      b.name = label;
      b.reference = true;
      add_point(b, r, key);
    }
  }
  std::vector<Series> losses{train_loss};
  if (!val_loss.x.empty()) losses.push_back(val_loss);
  std::vector<Series> primary_series{metric};
  for (auto& [key, b] : baselines) {
    // A baseline measured once (or the same every time) spans the run as a line.
    if (b.x.size() == 1 && !metric.x.empty()) {
      b.x = {metric.x.front(), metric.x.back()};
      b.y = {b.y[0], b.y[0]};
    }
    primary_series.push_back(b);
  }
  return {{"loss", "step", losses},
          {primary.empty() ? "validation metric" : "validation " + primary, "step", primary_series},
          {"learning rate", "step", {lr}}};
}

void plot_run_summary(const std::string& metrics_jsonl, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  write_panels(out_dir + "/summary.png", run_summary_panels(read_metrics_log(metrics_jsonl)));
}

}  // namespace zoo
