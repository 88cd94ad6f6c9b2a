#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/atomic_file.h"
#include "train/metrics_log.h"

namespace zoo {

namespace {
std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}
}  // namespace

void write_line_plot(const std::string& path, const std::string& title, const std::string& x_label,
                     const std::vector<Series>& series) {
  const int width = 800, height = 500, left = 80, right = 20, top = 40, bottom = 60;
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) return;  // nothing to draw
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  auto px = [&](double x, double y) {
    return cv::Point(left + static_cast<int>((x - x0) / (x1 - x0) * (width - left - right)),
                     top + static_cast<int>((y1 - y) / (y1 - y0) * (height - top - bottom)));
  };
  const cv::Scalar grid(225, 225, 225), ink(40, 40, 40);
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  for (int t = 0; t <= 5; ++t) {
    const double y = y0 + (y1 - y0) * t / 5, x = x0 + (x1 - x0) * t / 5;
    cv::line(img, px(x0, y), px(x1, y), grid, 1);
    cv::line(img, px(x, y0), px(x, y1), grid, 1);
    cv::putText(img, tick_label(y), cv::Point(5, px(x0, y).y + 4), font, 0.4, ink, 1, cv::LINE_AA);
    cv::putText(img, tick_label(x), cv::Point(px(x, y0).x - 15, height - bottom + 18), font, 0.4,
                ink, 1, cv::LINE_AA);
  }
  cv::rectangle(img, px(x0, y1), px(x1, y0), ink, 1);
  cv::putText(img, title, cv::Point(left, 25), font, 0.6, ink, 1, cv::LINE_AA);
  cv::putText(img, x_label, cv::Point(width / 2 - 20, height - 15), font, 0.5, ink, 1, cv::LINE_AA);
  // matplotlib's tab10, BGR: ten runs can share one plot.
  const cv::Scalar palette[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},  {189, 103, 148},
                                {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const cv::Scalar colour = palette[k % 10];
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i])) points.push_back(px(s.x[i], s.y[i]));
    cv::polylines(img, points, false, colour, 2, cv::LINE_AA);
    if (points.size() == 1) cv::circle(img, points[0], 3, colour, -1);
    cv::putText(img, s.name, cv::Point(width - right - 180, top + 20 + 18 * static_cast<int>(k)),
                font, 0.45, colour, 1, cv::LINE_AA);
  }
  write_png(path, img);
}

void write_png(const std::string& path, const cv::Mat& image) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw std::runtime_error(path + ": PNG encoding failed");
  atomic_write(path, [&](const ByteSink& sink) { sink(png.data(), png.size()); });
}

void plot_run_curves(const std::string& metrics_jsonl, const std::string& out_dir) {
  std::map<std::string, Series> train, val;
  for (const auto& r : read_metrics_log(metrics_jsonl)) {
    const std::string split = r.value("split", "");
    const double step = r.value("step", 0.0);
    for (const auto& [key, value] : r.items()) {
      if (!value.is_number() || key == "step") continue;
      const bool loss_term = split == "train" && key.rfind("loss", 0) == 0;
      if (!loss_term && split != "val") continue;
      Series& s = (split == "train" ? train : val)[key];
      s.name = key;
      s.x.push_back(step);
      s.y.push_back(value.get<double>());
    }
  }
  std::filesystem::create_directories(out_dir);
  std::vector<Series> losses;
  for (auto& [key, s] : train) losses.push_back(s);
  if (!losses.empty()) write_line_plot(out_dir + "/loss.png", "training loss", "step", losses);
  for (auto& [key, s] : val) {
    std::string file = key;
    std::replace(file.begin(), file.end(), '/', '_');
    write_line_plot(out_dir + "/val_" + file + ".png", "validation " + key, "step", {s});
  }
}

}  // namespace zoo
