#pragma once
// PNG line plots, drawn with OpenCV (no plotting library needed): round-number ticks, markers
// where a curve has few points, dashed reference lines, a legend; one style for a run's summary
// figure, the PCK curves and `zoo compare --plot`.
#include <opencv2/core.hpp>

#include <string>
#include <vector>

#include "train/config.h"

namespace zoo {

struct Series {
  std::string name;
  std::vector<double> x, y;
  bool reference = false;  // a baseline to compare with: drawn dashed
};

struct Panel {
  std::string title, x_label;
  std::vector<Series> series;
};

// Ticks at round numbers (1, 2 or 5 times a power of ten) spanning [lo, hi], about `target` of
// them; the first is at or below lo and the last at or above hi, so they also give the axis range.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// A tick's label with as many digits as the spacing `step` needs: 0.0004, 1500, 2.5.
std::string tick_label(double value, double step);

// Encodes an image as PNG and writes it atomically (temporary file, fsync, rename); an image
// OpenCV cannot encode is a std::runtime_error naming the path.
void write_png(const std::string& path, const cv::Mat& image);

// One panel in its own PNG, written atomically. Nothing is written when no series has a point.
void write_line_plot(const std::string& path, const std::string& title, const std::string& x_label,
                     const std::vector<Series>& series);
// Panels side by side in one PNG; a panel without points says so.
void write_panels(const std::string& path, const std::vector<Panel>& panels);

// DIR/plots/summary.png from metrics.jsonl, one figure per run: training and validation loss
// together, the primary metric with the baselines its evaluator reports (names that end in the
// metric's: mean_pose_mpjpe_mm, random_ar100, untrained_ar100) as dashed lines, and the learning
// rate. Bookkeeping (wall time, counts) is not plotted.
void plot_run_summary(const std::string& metrics_jsonl, const std::string& out_dir);
// Its three panels from metrics.jsonl's records.
std::vector<Panel> run_summary_panels(const std::vector<Json>& records);

}  // namespace zoo
