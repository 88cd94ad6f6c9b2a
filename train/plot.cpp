#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "io/atomic_file.h"

namespace zoo {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr int kPanelWidth = 600, kPanelHeight = 440;
// Fewer points than this get a marker each: an evaluation every few hundred steps is a point
// that was measured, not a line that was.
constexpr size_t kMarkersBelow = 40;
// A legend entry: a 30 px line or dashes, then the name; rows 20 px apart.
constexpr int kLegendSwatch = 30, kLegendRow = 20;
constexpr double kLegendScale = 0.45;

const cv::Scalar kInk(40, 40, 40), kGrid(228, 228, 228), kWhite(255, 255, 255);
// matplotlib's tab10, BGR: ten runs can share one plot.
const cv::Scalar kPalette[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},  {189, 103, 148},
                               {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};

// The smallest of 1, 2, 5 times a power of ten that is at least `raw` (to rounding).
double nice_step(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / power * (1 - 1e-9);
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

void put_text(cv::Mat& img, const std::string& text, cv::Point at, double scale, const cv::Scalar& colour) {
  cv::putText(img, text, at, kFont, scale, colour, 1, cv::LINE_AA);
}

int text_width(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, scale, 1, &baseline).width;
}

void dashed_polyline(cv::Mat& img, const std::vector<cv::Point>& points, const cv::Scalar& colour) {
  for (size_t i = 1; i < points.size(); ++i) {
    const cv::Point2d a = points[i - 1], b = points[i];
    const double length = cv::norm(b - a);
    for (double s = 0; s < length; s += 12) {
      const double e = std::min(length, s + 7);
      cv::line(img, a + (b - a) * (s / length), a + (b - a) * (e / length), colour, 2, cv::LINE_AA);
    }
  }
}

bool has_points(const Series& s) {
  for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
    if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) return true;
  return false;
}

// Where each series' legend entry goes: rows under the title, above the data, wrapped at the
// panel's width. Inside the data, no corner stays free of every curve (a warmup's peak, a
// metric's best value, a baseline's line); above it nothing can overlap. None for a single
// series that the title already names ("learning rate" in "learning rate").
std::vector<cv::Point> legend_layout(const Panel& panel, int left, int right, int first_row_y) {
  std::vector<cv::Point> at(panel.series.size(), {-1, -1});
  if (panel.series.size() == 1 && panel.title.find(panel.series[0].name) != std::string::npos) return at;
  int x = left, y = first_row_y;
  for (size_t k = 0; k < panel.series.size(); ++k) {
    if (!has_points(panel.series[k])) continue;
    const int width = kLegendSwatch + 6 + text_width(panel.series[k].name, kLegendScale);
    if (x > left && x + width > right) {
      x = left;
      y += kLegendRow;
    }
    at[k] = {x, y};
    x += width + 18;
  }
  return at;
}

// The data frame's top, below the title and the legend's rows, from the top of the panel.
int frame_top(const std::vector<cv::Point>& legend, int panel_y) {
  int top = 40;
  for (const auto& p : legend)
    if (p.y >= 0) top = std::max(top, p.y - panel_y + 14);
  return top;
}

// Draws one panel into `area` of `img`, its frame `top` pixels down (panels side by side share
// it, so their frames line up) and its x axis spanning at least [x_lo, x_hi].
void draw_panel(cv::Mat& img, const cv::Rect& area, const Panel& panel, int top_offset, double x_lo, double x_hi) {
  const int left = area.x + 78, right = area.x + area.width - 20, bottom = area.y + area.height - 55;
  put_text(img, panel.title, {left, area.y + 25}, 0.6, kInk);
  const std::vector<cv::Point> legend = legend_layout(panel, left, right, area.y + 48);
  const int top = area.y + top_offset;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : panel.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) {
    put_text(img, "nothing logged", {left + 20, (top + bottom) / 2}, 0.5, kInk);
    return;
  }
  x0 = std::min(x0, x_lo);
  x1 = std::max(x1, x_hi);
  // 3 % of room above and below the data, so that a point at a round value (a first loss of
  // 0.28, an accuracy of 1) is not drawn on the frame; not below 0 for data that never is (a
  // learning rate decaying to 0 stays on the axis).
  const double room = 0.03 * (y1 - y0);
  const std::vector<double> xt = nice_ticks(x0, x1),
                            yt = nice_ticks(y0 >= 0 ? std::max(0.0, y0 - room) : y0 - room, y1 + room);
  x0 = xt.front();
  x1 = xt.back();
  y0 = yt.front();
  y1 = yt.back();
  const auto px = [&](double x, double y) {
    return cv::Point(left + static_cast<int>(std::lround((x - x0) / (x1 - x0) * (right - left))),
                     top + static_cast<int>(std::lround((y1 - y) / (y1 - y0) * (bottom - top))));
  };
  for (const double y : yt) {
    cv::line(img, px(x0, y), px(x1, y), kGrid, 1);
    const std::string label = tick_label(y, yt[1] - yt[0]);
    put_text(img, label, {left - 8 - text_width(label, 0.42), px(x0, y).y + 5}, 0.42, kInk);
  }
  for (const double x : xt) {
    cv::line(img, px(x, y0), px(x, y1), kGrid, 1);
    const std::string label = tick_label(x, xt[1] - xt[0]);
    put_text(img, label, {px(x, y0).x - text_width(label, 0.42) / 2, bottom + 20}, 0.42, kInk);
  }
  cv::rectangle(img, {left, top}, {right, bottom}, kInk, 1);
  put_text(img, panel.x_label, {(left + right - text_width(panel.x_label, 0.5)) / 2, bottom + 45}, 0.5, kInk);
  for (size_t k = 0; k < panel.series.size(); ++k) {
    const Series& s = panel.series[k];
    const cv::Scalar colour = kPalette[k % 10];
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) points.push_back(px(s.x[i], s.y[i]));
    if (points.empty()) continue;
    if (s.reference)
      dashed_polyline(img, points, colour);
    else
      cv::polylines(img, points, false, colour, 2, cv::LINE_AA);
    if (!s.reference && points.size() < kMarkersBelow)
      for (const auto& p : points) cv::circle(img, p, 4, colour, -1, cv::LINE_AA);
    const cv::Point at = legend[k];
    if (at.y < 0) continue;
    if (s.reference)
      dashed_polyline(img, {{at.x, at.y - 4}, {at.x + kLegendSwatch, at.y - 4}}, colour);
    else
      cv::line(img, {at.x, at.y - 4}, {at.x + kLegendSwatch, at.y - 4}, colour, 2, cv::LINE_AA);
    put_text(img, s.name, {at.x + kLegendSwatch + 6, at.y}, kLegendScale, kInk);
  }
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) {  // one value: 10 % either side of it
    const double half = lo == 0 ? 1 : std::fabs(lo) / 10;
    lo -= half;
    hi += half;
  }
  const double step = nice_step((hi - lo) / std::max(1, target));
  std::vector<double> ticks;
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  for (double k = first; k <= last; ++k) ticks.push_back(std::fabs(k) < 1e-9 ? 0.0 : k * step);
  if (ticks.size() < 2) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string tick_label(double value, double step) {
  char buf[32];
  if (value == 0) return "0";
  const double magnitude = std::max(std::fabs(value), step);
  if (magnitude >= 1e6 || magnitude < 1e-4) {
    std::snprintf(buf, sizeof buf, "%.2g", value);
    return buf;
  }
  // Digits after the point that the spacing needs (0.0002 -> 4, 50 -> 0, 2.5 -> 1).
  int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  const double scaled = step * std::pow(10.0, decimals);
  if (std::fabs(scaled - std::round(scaled)) > 1e-6) ++decimals;  // 2.5, 0.25
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

void write_png(const std::string& path, const cv::Mat& image) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw std::runtime_error(path + ": PNG encoding failed");
  atomic_write(path, [&](const ByteSink& sink) { sink(png.data(), png.size()); });
}

void write_line_plot(const std::string& path, const std::string& title, const std::string& x_label,
                     const std::vector<Series>& series) {
  bool any = false;
  for (const auto& s : series) any = any || !s.x.empty();
  if (!any) return;
  write_panels(path, {{title, x_label, series}});
}

void write_panels(const std::string& path, const std::vector<Panel>& panels) {
  cv::Mat img(kPanelHeight, kPanelWidth * static_cast<int>(panels.size()), CV_8UC3, kWhite);
  // Frames at one height, and panels over one x quantity (a run's steps) over one range: the
  // validation curve then starts under the training step it was measured at, not at the left.
  int top = 0;
  double x_lo = INFINITY, x_hi = -INFINITY;
  bool one_x = true;
  for (const auto& p : panels) {
    top = std::max(top, frame_top(legend_layout(p, 78, kPanelWidth - 20, 48), 0));
    one_x = one_x && p.x_label == panels.front().x_label;
    for (const auto& s : p.series)
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
          x_lo = std::min(x_lo, s.x[i]);
          x_hi = std::max(x_hi, s.x[i]);
        }
  }
  if (!one_x) x_lo = INFINITY, x_hi = -INFINITY;
  for (size_t i = 0; i < panels.size(); ++i)
    draw_panel(img, {kPanelWidth * static_cast<int>(i), 0, kPanelWidth, kPanelHeight}, panels[i], top, x_lo, x_hi);
  write_png(path, img);
}

}  // namespace zoo
