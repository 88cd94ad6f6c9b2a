// Hand batches (tensor layout, normalisation and its inverses) and HandLoader (determinism
// across worker counts, resume, epoch permutations, unreadable images skipped or fatal).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <new>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/hand_batch.h"
#include "data/hand_synth.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

TEST(HandBatch, CollateLayoutAndInverses) {
  std::vector<HandSample> samples = {synthetic_hand(1, 64), synthetic_hand(2, 64)};
  samples[1].visible[7] = 0;
  const Batch b = collate(samples);
  for (const char* key : {"image", "xyz", "uv", "visible", "root_mm", "scale_mm", "K"}) {
    ASSERT_TRUE(b.count(key)) << key;
    EXPECT_EQ(b.at(key).dtype(), torch::kFloat32) << key;
  }
  EXPECT_EQ(b.at("image").sizes(), torch::IntArrayRef({2, 3, 64, 64}));
  EXPECT_EQ(b.at("xyz").sizes(), torch::IntArrayRef({2, 21, 3}));
  EXPECT_EQ(b.at("uv").sizes(), torch::IntArrayRef({2, 21, 2}));
  EXPECT_EQ(b.at("visible").sizes(), torch::IntArrayRef({2, 21}));
  EXPECT_EQ(b.at("root_mm").sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_EQ(b.at("scale_mm").sizes(), torch::IntArrayRef({2}));
  EXPECT_EQ(b.at("K").sizes(), torch::IntArrayRef({2, 3, 3}));

  const auto xyz = b.at("xyz");
  EXPECT_EQ(xyz.select(1, kWrist).abs().max().item<float>(), 0.0f);                               // root-relative
  EXPECT_NEAR(xyz.select(1, kMiddleMcp).norm(2, {1}).sub(1).abs().max().item<float>(), 0, 1e-6);  // unit bone
  EXPECT_EQ(b.at("visible")[1][7].item<float>(), 0.0f);
  EXPECT_NEAR(b.at("K")[1][0][0].item<float>(), samples[1].K(0, 0), 1e-3);

  // Back to millimetres and pixels.
  const auto mm = xyz_to_mm(xyz, b.at("root_mm"), b.at("scale_mm"));
  const auto px = uv_to_pixels(b.at("uv"), 64, 64);
  for (int s = 0; s < 2; ++s)
    for (int j = 0; j < kHandJoints; ++j) {
      const auto& p = samples[static_cast<size_t>(s)].xyz_mm[static_cast<size_t>(j)];
      EXPECT_NEAR(mm[s][j][0].item<float>(), p.x, 1e-3);
      EXPECT_NEAR(mm[s][j][2].item<float>(), p.z, 1e-3);
      EXPECT_NEAR(px[s][j][0].item<float>(), samples[static_cast<size_t>(s)].uv[static_cast<size_t>(j)].x, 1e-4);
      EXPECT_NEAR(px[s][j][1].item<float>(), samples[static_cast<size_t>(s)].uv[static_cast<size_t>(j)].y, 1e-4);
    }
  // Pixel-centre normalisation: the centre of pixel 0 is -1 + 1/W, of pixel W-1 is 1 - 1/W.
  EXPECT_NEAR(uv_to_pixels(torch::tensor({-1 + 1 / 64.0, 1 - 1 / 64.0}), 64, 64)[1].item<float>(), 63, 1e-5);

  // ImageNet normalisation of RGB, and the exact way back.
  const auto pixel = samples[0].image.at<cv::Vec3b>(10, 20);  // BGR
  EXPECT_NEAR(b.at("image")[0][0][10][20].item<float>(), (pixel[2] / 255.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(b.at("image")[0][2][10][20].item<float>(), (pixel[0] / 255.0 - 0.406) / 0.225, 1e-5);
  EXPECT_EQ(cv::norm(tensor_to_image(b.at("image")[1]), samples[1].image, cv::NORM_INF), 0);
  EXPECT_TRUE(torch::equal(image_to_tensor(samples[1].image), b.at("image")[1]));

  samples.push_back(synthetic_hand(3, 32));
  EXPECT_THROW(collate(samples), std::invalid_argument);
}

void expect_same_batches(const Batch& a, const Batch& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [key, t] : a) EXPECT_TRUE(torch::equal(t, b.at(key))) << what << ", key " << key;
}

TEST(HandLoader, IdenticalBatchesForAnyWorkerCount) {
  const HandSource source = synthetic_source(20, 9, 96);
  HandLoaderOptions o;
  o.batch_size = 6;
  o.image_size = 64;
  o.seed = 77;
  std::vector<Batch> reference;
  {
    o.num_workers = 0;
    HandLoader loader(source, o);
    for (int i = 0; i < 8; ++i) reference.push_back(loader.next());
    expect_same_batches(loader.batch(5), reference[5], "batch(5)");
  }
  for (int workers : {1, 3}) {
    o.num_workers = workers;
    o.prefetch = workers == 3 ? 2 : 4;  // fewer slots than workers is allowed
    HandLoader loader(source, o);
    for (int i = 0; i < 8; ++i)
      expect_same_batches(loader.next(), reference[static_cast<size_t>(i)],
                          std::to_string(workers) + " workers, batch " + std::to_string(i));
  }
  o.first_batch = 5;  // resume
  HandLoader resumed(source, o);
  expect_same_batches(resumed.next(), reference[5], "resumed");
  // A data-parallel rank: batches 1, 3, 5 of the same stream, from the prefetching workers.
  o.first_batch = 1;
  o.batch_stride = 2;
  HandLoader strided(source, o);
  for (size_t i : {1, 3, 5}) expect_same_batches(strided.next(), reference[i], "stride 2, batch " + std::to_string(i));
  // Each epoch of 20 draws is a permutation; the next epoch a different one.
  std::vector<int64_t> drawn;
  for (const auto& b : reference)
    for (int64_t k = 0; k < 6; ++k) drawn.push_back(b.at("index")[k].item<int64_t>());
  std::vector<int64_t> epoch0(drawn.begin(), drawn.begin() + 20), epoch1(drawn.begin() + 20, drawn.begin() + 40);
  EXPECT_NE(epoch0, epoch1);
  std::sort(epoch0.begin(), epoch0.end()), std::sort(epoch1.begin(), epoch1.end());
  std::vector<int64_t> all(20);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(epoch0, all);
  EXPECT_EQ(epoch1, all);
  EXPECT_EQ(reference[0].at("image").sizes(), torch::IntArrayRef({6, 3, 64, 64}));
}

// Four 64 px synthetic hands written as PNG into DIR (record 2's file missing, record 3's corrupt).
std::vector<HandRecord> records_with_bad_images(const fs::path& dir) {
  std::vector<HandRecord> records;
  for (int i = 0; i < 4; ++i) {
    const HandSample s = synthetic_hand(static_cast<uint64_t>(i), 64);
    HandRecord r{(dir / (std::to_string(i) + ".png")).string(), s.K, s.xyz_mm, s.uv, s.visible};
    if (i != 2) cv::imwrite(r.image_path, s.image);
    if (i == 3) std::ofstream(r.image_path, std::ios::binary | std::ios::trunc) << "garbage";
    records.push_back(r);
  }
  return records;
}

TEST(HandLoader, UnreadableImagesAreSkippedWithOneWarningEach) {
  const testing::ScratchDir scratch("zoo_hand_loader");
  const fs::path& dir = scratch.path();
  const auto records = records_with_bad_images(dir);
  HandLoaderOptions o;
  o.batch_size = 4;
  o.image_size = 48;
  o.num_workers = 2;
  o.shuffle = false;  // batch = indices 0, 1, 2, 3: 2 -> 3 -> 0 and 3 -> 0
  ::testing::internal::CaptureStderr();
  std::vector<Batch> batches;
  {
    HandLoader loader(records_source(records), o);
    for (int i = 0; i < 3; ++i) batches.push_back(loader.next());
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  const auto indices = batches[2].at("index");
  EXPECT_EQ(std::vector<int64_t>(indices.data_ptr<int64_t>(), indices.data_ptr<int64_t>() + 4),
            std::vector<int64_t>({0, 1, 0, 0}));
  for (const auto& name : {"2.png", "3.png"}) {
    const std::string path = (dir / name).string() + ": cannot decode image";
    const size_t first = err.find(path);
    EXPECT_NE(first, std::string::npos) << err;
    EXPECT_EQ(err.find(path, first + 1), std::string::npos) << "warned twice: " << err;
  }
}

TEST(HandLoader, EvaluationBatchesLeaveUnreadableSamplesOutInsteadOfSubstituting) {
  const testing::ScratchDir scratch("zoo_hand_loader");
  const fs::path& dir = scratch.path();
  const auto records = records_with_bad_images(dir);  // 4 samples, 2 and 3 unreadable
  ::testing::internal::CaptureStderr();
  std::vector<std::string> skipped;
  const auto batches = fixed_batches(records_source(records), 4, 3, 48, 2, true, &skipped);
  ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find(records[2].image_path), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find(records[3].image_path), std::string::npos) << skipped[1];
  std::vector<int64_t> seen;
  for (const auto& b : batches) {
    const auto idx = b.at("index");
    for (int64_t r = 0; r < idx.size(0); ++r) seen.push_back(idx[r].item<int64_t>());
    for (const auto& [key, t] : b) EXPECT_EQ(t.size(0), idx.size(0)) << key;
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1})) << "only the loadable samples, each once";
  // The rows are those samples' own, unaugmented.
  const Batch one = fixed_batches(records_source(records), 1, 1, 48, 0, true).at(0);
  EXPECT_TRUE(torch::equal(one.at("image"), batches[0].at("image").narrow(0, 0, 1)));
}

TEST(HandLoader, UnreadableImageIsFatalWhenAskedAndNamesThePath) {
  const testing::ScratchDir scratch("zoo_hand_loader");
  const fs::path& dir = scratch.path();
  const auto records = records_with_bad_images(dir);
  HandLoaderOptions o;
  o.batch_size = 2;
  o.image_size = 48;
  o.shuffle = false;
  o.skip_bad_images = false;
  for (int workers : {0, 2}) {
    o.num_workers = workers;
    HandLoader loader(records_source(records), o);
    EXPECT_NO_THROW(loader.next());  // indices 0, 1
    try {
      loader.next();  // indices 2, 3
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), (dir / "2.png").string() + ": cannot decode image");
    }
    EXPECT_NO_THROW(loader.next());  // the loader stays usable: indices 0, 1 again
  }
  // Nothing readable at all: an error, not an endless loop.
  std::vector<HandRecord> bad(records.begin() + 2, records.end());
  o.skip_bad_images = true;
  ::testing::internal::CaptureStderr();
  HandLoader loader(records_source(bad), o);
  EXPECT_THROW(loader.next(), std::runtime_error);
  ::testing::internal::GetCapturedStderr();
}

// Issue 29, class 11: running out of memory is not a bad file. An allocation failure while a
// sample loads (std::bad_alloc, or OpenCV's StsNoMem) ends loading; it is never a skipped sample.
TEST(HandLoader, OutOfMemoryIsNeverASkippedSample) {
  const HandSource good = synthetic_source(4, 7, 48);
  const std::vector<std::function<void()>> failures = {
      [] { throw std::bad_alloc(); },
      [] { throw cv::Exception(cv::Error::StsNoMem, "Failed to allocate 1234567890 bytes", "imdecode", "x.cpp", 1); }};
  for (size_t f = 0; f < failures.size(); ++f) {
    const HandSource source{4, [&, f](int64_t i) {
                              if (i == 2) failures[f]();
                              return good.get(i);
                            }};
    std::vector<std::string> skipped;
    EXPECT_ANY_THROW(fixed_batches(source, 4, 4, 48, 0, /*skip_bad_images=*/true, &skipped)) << f;
    EXPECT_TRUE(skipped.empty()) << f;
    HandLoaderOptions o;
    o.batch_size = 4;
    o.image_size = 48;
    o.shuffle = false;
    o.num_workers = 2;
    HandLoader loader(source, o);
    EXPECT_ANY_THROW(loader.next()) << f;
    EXPECT_TRUE(loader.skipped().empty()) << f;
  }
}

// eval.batch_size=1000000 on a split of 5: one batch of the 5 samples, each loaded once (the
// loader fills a batch by wrapping around its source, and used to decode a million samples).
TEST(HandLoader, EvaluationBatchLargerThanTheSplitLoadsEachSampleOnce) {
  const HandSource good = synthetic_source(5, 7, 48);
  std::atomic<int> loads{0};
  const HandSource counted{5, [&](int64_t i) {
                             ++loads;
                             return good.get(i);
                           }};
  const auto batches = fixed_batches(counted, 5, 1000000, 48, 0, true);  // no workers: nothing prefetched
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].at("image").size(0), 5);
  EXPECT_EQ(loads.load(), 5);
  // And a split of 3 (a second size of the same kind) at batch size 7.
  loads = 0;
  const auto three = fixed_batches(counted, 3, 7, 48, 0, true);
  ASSERT_EQ(three.size(), 1u);
  EXPECT_EQ(three[0].at("index").size(0), 3);
  EXPECT_EQ(loads.load(), 3);
}

}  // namespace
}  // namespace zoo
