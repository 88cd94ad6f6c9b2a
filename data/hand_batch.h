#pragma once
// HandSamples -> tensors, and a multi-threaded, deterministic, prefetching batch loader.
//
// Batch keys (B samples, all float32 unless stated):
//   "image"    [B, 3, H, W]  RGB, (pixel / 255 - mean) / std with the ImageNet statistics below
//                            (exported models must apply the same normalisation to their input)
//   "xyz"      [B, 21, 3]    root-relative, scale-normalised 3D joints:
//                            (xyz_mm - xyz_mm[wrist]) / scale_mm, so the wrist is 0 and the
//                            wrist -> middle MCP bone has length 1
//   "root_mm"  [B, 3]        xyz_mm[wrist] of each sample, camera coordinates, mm
//   "scale_mm" [B]           |xyz_mm[middle_mcp] - xyz_mm[wrist]| of each sample (its own hand)
//   "uv"       [B, 21, 2]    (u, v) normalised with the pixel-centre (DSNT, align_corners=False)
//                            convention of spec §3.2: x = (2u + 1) / W - 1, y = (2v + 1) / H - 1
//   "visible"  [B, 21]       1 = labelled and inside the image, 0 = not (mask for losses/metrics)
//   "K"        [B, 3, 3]     intrinsics of the batch image (after augmentation)
// HandLoader batches also carry "index" [B] int64: the data-set index of each sample (after
// replacement of an unreadable one).
// Back to millimetres / pixels: xyz_to_mm and uv_to_pixels. Note that xyz_to_mm with the ground
// truth root and scale gives "root-relative, scale-normalised" accuracy, not absolute 3D.
#include <torch/torch.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "data/batch.h"
#include "data/hand_augment.h"
#include "data/hand_formats.h"
#include "data/hand_sample.h"
#include "data/sampling.h"

namespace zoo {

// The keys above, for code that reads batches.
namespace hand_key {
inline constexpr char kImage[] = "image", kXyz[] = "xyz", kRootMm[] = "root_mm", kScaleMm[] = "scale_mm",
                      kUv[] = "uv", kVisible[] = "visible", kK[] = "K", kIndex[] = "index";
}  // namespace hand_key

// ImageNet statistics, RGB order (torchvision's normalisation of pretrained backbones).
constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};

// BGR uint8 image -> [3, H, W] float RGB normalised as "image" above; and back (BGR uint8,
// clamped), for visualising a batch.
torch::Tensor image_to_tensor(const cv::Mat& bgr);
cv::Mat tensor_to_image(const torch::Tensor& chw);

// Stacks samples into the keys above. All images must have the same size and every sample 21
// joints with a non-degenerate reference bone (std::invalid_argument naming the source otherwise).
Batch collate(const std::vector<HandSample>& samples);

// Inverses used by metrics: xyz [..., 21, 3] normalised -> mm (root_mm [..., 3], scale_mm [...]);
// uv [..., 2] normalised -> pixels of a width x height image.
torch::Tensor xyz_to_mm(const torch::Tensor& xyz, const torch::Tensor& root_mm, const torch::Tensor& scale_mm);
torch::Tensor uv_to_pixels(const torch::Tensor& uv, int64_t width, int64_t height);

// A data set by index. get may throw std::exception for an unreadable sample (HandLoader's
// skip_bad_images decides what happens then); it must be safe to call from several threads.
struct HandSource {
  int64_t size = 0;
  std::function<HandSample(int64_t index)> get;
};
// Records decoded with load_hand_image on demand.
HandSource records_source(std::vector<HandRecord> records);
// Sample i = synthetic_hand(mix_seed(seed, i), image_size), for i < size.
HandSource synthetic_source(int64_t size, uint64_t seed, int image_size);

struct HandLoaderOptions {
  int64_t batch_size = 32;
  int image_size = 128;            // every sample ends image_size x image_size (augment or resize_to)
  bool augment = true;             // false: resize_to(image_size) only
  AugmentOptions augment_options;  // its output_size is replaced by image_size
  bool shuffle = true;             // a fresh permutation per epoch (EpochSampler); false: index order
  uint64_t seed = 0;
  // 0: batches are made on the thread calling next(). OpenCV's own thread pool competes with the
  // workers on these small images; a program using workers may want cv::setNumThreads(0)
  // (process-wide, so the loader leaves it alone).
  int num_workers = 2;
  int prefetch = 4;             // batches made ahead of next() at most (at least num_workers)
  bool skip_bad_images = true;  // false: next() rethrows the exception, which names the path
  int64_t first_batch = 0;      // the first batch next() returns (resuming a run)
  int64_t batch_stride = 1;     // next() returns first_batch, first_batch + stride, ... (a
                                // data-parallel rank reads every world_size-th batch)
};

// Batch i holds the samples at draw positions p = i * batch_size + k (k < batch_size) of an
// endless stream: sample index = the permutation of epoch p / size at p % size (seeded with a
// seed derived from the loader seed, so that it never coincides with an augmentation seed),
// augmented with seed mix_seed(seed, p). So batch i is a pure function of (source, options, i)
// and identical for any num_workers and thread timing; an epoch need not end on a batch
// boundary (a batch may span two epochs). With
// skip_bad_images, a sample whose get() throws is replaced by index + 1 (cyclically, the same
// augmentation seed) and a warning naming it is printed to stderr once per index (per loader).
class HandLoader {
 public:
  HandLoader(HandSource source, HandLoaderOptions options);
  ~HandLoader();  // stops and joins the workers; batches in flight are discarded
  HandLoader(const HandLoader&) = delete;
  HandLoader& operator=(const HandLoader&) = delete;

  Batch next();                  // batches first_batch + k * batch_stride, k = 0, 1, ... in order
  Batch batch(int64_t i) const;  // batch i, made synchronously on the calling thread
  int64_t batches_per_epoch() const { return (source_.size + options_.batch_size - 1) / options_.batch_size; }
  const HandLoaderOptions& options() const { return options_; }
  // The samples skipped so far: index -> why (the message names the file).
  std::map<int64_t, std::string> skipped() const;

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };
  Batch make_batch(int64_t i, EpochSampler& sampler) const;
  HandSample load(int64_t& index) const;  // index: in the wanted one, out the one loaded
  void worker();
  void stop_workers();

  HandSource source_;
  HandLoaderOptions options_;
  EpochSampler main_sampler_;  // for num_workers == 0

  std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_claim_ = 0, next_out_ = 0;  // k, counting next()'s outputs
  std::map<int64_t, Slot> ready_;
  bool stop_ = false;
  std::vector<std::thread> workers_;

  mutable std::mutex warn_mutex_;
  mutable std::map<int64_t, std::string> warned_;
};

// In-plane rotation augmentation warps the image and leaves K = A·K_old rotated (K[1][0] != 0)
// while xyz stays in the old camera frame, so the 3D target would not rotate with the picture
// the network sees. This rotates each sample's camera about its optical axis instead:
// K = K'·Rz with K' upper triangular (K'[1][0] = 0, positive diagonal), then xyz' = Rz·xyz
// (keys "xyz" and "root_mm") and K = K'. The pixels and uv are unchanged and K'·xyz' = K·xyz,
// so the labels stay exact; without rotation (Rz = I) nothing changes. Batch keys as in
// data/hand_batch.h; works on any device.
void rotate_to_upright_camera(Batch& batch);

// The first n samples of `source` in index order, unaugmented (resize_to), in batches of
// batch_size (the last one shorter), for evaluation: made by a HandLoader's workers. With
// skip_bad_images a sample that cannot be loaded is left out, never replaced by another (the
// loader's substitute is dropped), so metrics are over the user's set minus the samples named in
// the warnings; `skipped`, when given, receives why each was left out (the message names the
// file), in index order. Every sample failing is an error.
std::vector<Batch> fixed_batches(const HandSource& source, int64_t n, int64_t batch_size, int image_size,
                                     int workers, bool skip_bad_images, std::vector<std::string>* skipped = nullptr);

}  // namespace zoo
