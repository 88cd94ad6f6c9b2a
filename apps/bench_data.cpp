// bench_data: the data side on its own, one "RESULT {json}" line per measurement:
//   data_hand_loader   HandLoader over generated hands with augmentation, as keypoint training
//                      reads them (128 px, batch 32), images/s with 0 and 2 workers
//   data_hand_synth    synthetic_hand() alone (render + labels), samples/s on one calling thread
//   data_sts_synth     synthetic_sts_pairs(), pairs/s on one thread
//   data_detection_synth  synthetic_detection() at its default size, images/s on one calling thread
// scripts/bench.sh sets each against what a training step consumes per second. WordPiece speed
// is bench_tokenizer's.
//   bench_data [--threads 2] [--batches 8] [--hands 128] [--pairs 20000] [--detections 64]
#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <opencv2/core.hpp>
#include <string>

#include "apps/command_options.h"
#include "data/detection_synth.h"
#include "data/hand_batch.h"
#include "data/hand_synth.h"
#include "data/sampling.h"
#include "data/sts_pairs.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Timed from the loader's construction to the last of `batches` batches: with prefetching
// workers, timing only after a warm-up batch would count batches made during the warm-up.
void hand_loader(int workers, int64_t batches, int threads) {
  constexpr int64_t kBatch = 32;
  constexpr int kSize = 128;
  // As the keypoints task does: OpenCV's own pool competes with the workers on small images.
  if (workers > 0) cv::setNumThreads(0);
  zoo::HandLoaderOptions o;
  o.batch_size = kBatch;
  o.image_size = kSize;
  o.augment = true;
  o.num_workers = workers;
  const auto t0 = std::chrono::steady_clock::now();
  zoo::HandLoader loader(zoo::synthetic_source(20000, 0, kSize), o);
  for (int64_t i = 0; i < batches; ++i) loader.next();
  const double s = seconds_since(t0);
  std::cout << "RESULT {\"bench\": \"data_hand_loader\", \"workers\": " << workers << ", \"threads\": " << threads
            << ", \"image_size\": " << kSize << ", \"batch\": " << kBatch << ", \"augment\": true, \"images\": "
            << batches * kBatch << ", \"images_per_s\": " << static_cast<double>(batches * kBatch) / s
            << ", \"peak_rss_mb\": " << peak_rss_mb() << "}\n";
}

void hand_synth(int64_t n) {
  zoo::synthetic_hand(zoo::mix_seed(7, 0), 128);  // warm-up (first-call allocations)
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 1; i <= n; ++i) zoo::synthetic_hand(zoo::mix_seed(7, static_cast<uint64_t>(i)), 128);
  const double s = seconds_since(t0);
  std::cout << "RESULT {\"bench\": \"data_hand_synth\", \"image_size\": 128, \"samples\": " << n
            << ", \"samples_per_s\": " << static_cast<double>(n) / s << "}\n";
}

void sts_synth(int64_t n) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto pairs = zoo::synthetic_sts_pairs(n, 0);
  const double s = seconds_since(t0);
  std::cout << "RESULT {\"bench\": \"data_sts_synth\", \"samples\": " << pairs.size()
            << ", \"samples_per_s\": " << static_cast<double>(pairs.size()) / s << "}\n";
}

void detection_synth(int64_t n) {
  const zoo::DetectionSynthOptions o;
  zoo::synthetic_detection(7, 0, o);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 1; i <= n; ++i) zoo::synthetic_detection(7, i, o);
  const double s = seconds_since(t0);
  std::cout << "RESULT {\"bench\": \"data_detection_synth\", \"width\": " << o.width << ", \"height\": " << o.height
            << ", \"samples\": " << n << ", \"samples_per_s\": " << static_cast<double>(n) / s << "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  auto o = zoo::command_options("bench_data", "the data side on its own");
  o.add_options()("threads", "LibTorch threads and loader workers", cxxopts::value<int>()->default_value("2"))(
      "batches", "hand loader batches timed", cxxopts::value<int64_t>()->default_value("8"))(
      "hands", "synthetic hands timed", cxxopts::value<int64_t>()->default_value("128"))(
      "pairs", "synthetic STS pairs timed", cxxopts::value<int64_t>()->default_value("20000"))(
      "detections", "synthetic detection images timed", cxxopts::value<int64_t>()->default_value("64"));
  int threads = 0;
  int64_t batches = 0, hands = 0, pairs = 0, detections = 0;
  try {
    const auto args = zoo::parse_command_line(o, argc, argv);
    threads = args["threads"].as<int>();
    batches = args["batches"].as<int64_t>();
    hands = args["hands"].as<int64_t>();
    pairs = args["pairs"].as<int64_t>();
    detections = args["detections"].as<int64_t>();
  } catch (const std::exception& e) {
    std::cerr << "bench_data: " << e.what() << "\n";
    return 1;
  }
  if (threads < 1 || batches < 1 || hands < 1 || pairs < 1 || detections < 1) {
    std::cerr << "bench_data: every option needs a value >= 1\n";
    return 1;
  }
  torch::set_num_threads(threads);
  hand_synth(hands);
  sts_synth(pairs);
  detection_synth(detections);
  hand_loader(0, batches, threads);  // before cv::setNumThreads(0), which is process-wide
  hand_loader(2, batches, threads);
  return 0;
}
