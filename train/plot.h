#pragma once
// PNG line plots of a run's curves, drawn with OpenCV (no plotting library needed).
#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace zoo {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

// Encodes an image as PNG and writes it atomically (temporary file, fsync, rename); an image
// OpenCV cannot encode is a std::runtime_error naming the path.
void write_png(const std::string& path, const cv::Mat& image);

// Draws the series on shared axes with a legend and writes a PNG atomically.
void write_line_plot(const std::string& path, const std::string& title, const std::string& x_label,
                     const std::vector<Series>& series);

// plots/loss.png (training loss terms) and plots/val_<metric>.png from metrics.jsonl.
void plot_run_curves(const std::string& metrics_jsonl, const std::string& out_dir);

}  // namespace zoo
