// The plots' style and the run summary's choice of curves.
#include "train/plot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "tests/scratch_dir.h"

namespace zoo {
namespace {

TEST(NiceTicks, FallOnRoundNumbersAndSpanTheData) {
  // The example: a curve from 59.54 to 66.52 got ticks at 66.52, 63.03, 59.54.
  EXPECT_EQ(nice_ticks(59.54, 66.52), (std::vector<double>{58, 60, 62, 64, 66, 68}));
  EXPECT_EQ(nice_ticks(0, 1500), (std::vector<double>{0, 500, 1000, 1500}));
  const auto one = nice_ticks(3, 3);  // one value: a range around it
  EXPECT_LT(one.front(), 3);
  EXPECT_GT(one.back(), 3);
  EXPECT_NEAR(one[1] - one[0], 0.2, 1e-12);  // 2.7..3.3 in steps of 0.2, to rounding
  const auto lr = nice_ticks(0, 1e-3);
  ASSERT_EQ(lr.size(), 6u);
  EXPECT_DOUBLE_EQ(lr[1], 2e-4);
  EXPECT_DOUBLE_EQ(lr.back(), 1e-3);
}

TEST(TickLabel, ShowsTheDigitsTheSpacingNeeds) {
  EXPECT_EQ(tick_label(60, 2), "60");
  EXPECT_EQ(tick_label(0.0004, 0.0002), "0.0004");
  EXPECT_EQ(tick_label(2.5, 0.5), "2.5");
  EXPECT_EQ(tick_label(1500, 500), "1500");
  EXPECT_EQ(tick_label(0, 0.2), "0");
  EXPECT_EQ(tick_label(2e-5, 5e-6), "2e-05");
}

std::vector<Json> keypoints_like_log() {
  return {
      {{"step", 10}, {"split", "train"}, {"loss", 2.0}, {"loss/coords", 2.0}, {"lr", 1e-3}, {"elapsed_s", 1.0},
       {"grad_norm", 3.0}, {"samples_per_s", 100.0}},
      {{"step", 20}, {"split", "train"}, {"loss", 1.0}, {"loss/coords", 1.0}, {"lr", 5e-4}, {"elapsed_s", 2.0},
       {"grad_norm", 2.0}, {"samples_per_s", 110.0}},
      {{"step", 20}, {"split", "val"}, {"mpjpe_mm", 50.0}, {"mean_pose_mpjpe_mm", 97.5}, {"pck_auc", 0.2},
       {"samples", 256}, {"elapsed_s", 2.5}, {"primary", "mpjpe_mm"}, {"is_best", true}},
  };
}

TEST(RunSummary, LossPrimaryMetricWithItsBaselineAndLearningRateOnly) {
  const auto panels = run_summary_panels(keypoints_like_log());
  ASSERT_EQ(panels.size(), 3u);
  // No validation loss in this task's metrics: the training loss alone.
  ASSERT_EQ(panels[0].series.size(), 1u);
  EXPECT_EQ(panels[0].series[0].y, (std::vector<double>{2.0, 1.0}));
  EXPECT_EQ(panels[1].title, "validation mpjpe_mm");
  ASSERT_EQ(panels[1].series.size(), 2u);
  EXPECT_EQ(panels[1].series[0].y, std::vector<double>{50.0});
  const Series& baseline = panels[1].series[1];
  EXPECT_EQ(baseline.name, "mean pose");
  EXPECT_TRUE(baseline.reference);
  EXPECT_EQ(baseline.y, (std::vector<double>{97.5, 97.5}));
  EXPECT_EQ(panels[2].series[0].y, (std::vector<double>{1e-3, 5e-4}));
  // Wall time, counts, grad norm and speed are in metrics.jsonl and TensorBoard, not here.
  for (const auto& p : panels)
    for (const auto& s : p.series)
      for (const std::string bookkeeping : {"elapsed_s", "samples", "samples_per_s", "grad_norm"})
        EXPECT_NE(s.name, bookkeeping);
}

TEST(RunSummary, ValidationLossIsTheEvaluatorsLossOrItsTermsSum) {
  std::vector<Json> log = {
      {{"step", 5}, {"split", "train"}, {"loss", 0.9}, {"loss/mse", 0.9}, {"lr", 0.1}},
      {{"step", 5}, {"split", "val"}, {"mse", 1.2}, {"pearson", 0.5}, {"primary", "pearson"}},
  };
  EXPECT_EQ(run_summary_panels(log)[0].series.at(1).y, std::vector<double>{1.2});
  log[1]["loss"] = 4.0;  // mlm: the evaluator reports its loss
  EXPECT_EQ(run_summary_panels(log)[0].series.at(1).y, std::vector<double>{4.0});
}

// The row of the frames' top edge: the first row whose dark pixels span most of the image.
int frame_top(const cv::Mat& img) {
  for (int y = 0; y < img.rows; ++y) {
    int dark = 0;
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);
      dark += p[0] < 80 && p[1] < 80 && p[2] < 80;  // the frame's ink, not a colour
    }
    if (dark > img.cols / 2) return y;
  }
  return -1;
}

// Pixels of a tab10 colour (BGR, anti-aliased edges aside) in rows [from, to).
int pixels_of(const cv::Mat& img, cv::Vec3b colour, int from, int to) {
  int n = 0;
  for (int y = from; y < to; ++y)
    for (int x = 0; x < img.cols; ++x) n += img.at<cv::Vec3b>(y, x) == colour;
  return n;
}

TEST(RunSummary, WritesOneFigureOfThreePanels) {
  const testing::ScratchDir scratch("zoo_summary");
  write_panels(scratch.path_to("summary.png"), run_summary_panels(keypoints_like_log()));
  const cv::Mat img = cv::imread(scratch.path_to("summary.png"));
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 3 * img.rows * 600 / 440);
  // The frames' top edges on one row (the loss panel has a legend, the learning rate none).
  EXPECT_GT(frame_top(img), 0);
}

TEST(Plot, TheLegendSitsAboveTheDataWhereNoCurveCanRunUnderIt) {
  const testing::ScratchDir scratch("zoo_legend");
  const auto path = scratch.path() / "legend.png";
  // A warmup to the top left corner and a decay to the bottom right, a baseline near the top:
  // a legend in any corner of the data would cover one of them.
  Series lr{"train", {0, 10, 100}, {0, 1, 0}}, baseline{"mean pose", {0, 100}, {0.9, 0.9}, true};
  write_panels(path.string(), {{"loss", "step", {lr, baseline}}});
  cv::Mat img = cv::imread(path.string());
  const int top = frame_top(img);
  ASSERT_GT(top, 0);
  const cv::Vec3b blue(180, 119, 31), orange(14, 127, 255);  // the palette's first two
  EXPECT_GT(pixels_of(img, blue, 0, top), 0);    // the legend's swatches, above the frame
  EXPECT_GT(pixels_of(img, orange, 0, top), 0);
  EXPECT_GT(pixels_of(img, blue, top, img.rows), 0);  // the curves, inside it
  // One series that the title names has no legend.
  write_panels(path.string(), {{"learning rate", "step", {{"learning rate", {0, 10, 100}, {0, 1, 0}}}}});
  img = cv::imread(path.string());
  // Above the frame, less the 6 rows where the marker of a point on the top edge spills over.
  EXPECT_EQ(pixels_of(img, blue, 0, frame_top(img) - 6), 0);
}

}  // namespace
}  // namespace zoo
