#include "data/hand_batch.h"

#include <algorithm>
#include <iostream>
#include <new>
#include <stdexcept>

#include <opencv2/core.hpp>

#include "data/hand_synth.h"

namespace zoo {

namespace {

// Planar, normalised RGB from BGR uint8, written straight into the batch tensor's memory.
void write_image(const cv::Mat& bgr, float* dst) {
  const int H = bgr.rows, W = bgr.cols;
  float scale[3], shift[3];  // per RGB channel: v * scale + shift == (v / 255 - mean) / std
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / (255.0f * kImageNetStd[static_cast<size_t>(c)]);
    shift[c] = -kImageNetMean[static_cast<size_t>(c)] / kImageNetStd[static_cast<size_t>(c)];
  }
  float* plane[3] = {dst, dst + H * W, dst + 2 * H * W};
  for (int y = 0; y < H; ++y) {
    const uchar* row = bgr.ptr<uchar>(y);
    for (int x = 0; x < W; ++x)
      for (int c = 0; c < 3; ++c)  // RGB channel c is BGR channel 2 - c
        plane[c][y * W + x] = row[3 * x + 2 - c] * scale[c] + shift[c];
  }
}

// Keeps the sampler's epoch permutation apart from the augmentation seeds mix_seed(seed, p).
constexpr uint64_t kSamplerSalt = 0x5A4D504C45520001ull;

}  // namespace

torch::Tensor image_to_tensor(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) throw std::invalid_argument("image_to_tensor: expected a BGR uint8 image");
  auto t = torch::empty({3, bgr.rows, bgr.cols}, torch::kFloat32);
  write_image(bgr, t.data_ptr<float>());
  return t;
}

cv::Mat tensor_to_image(const torch::Tensor& chw) {
  if (chw.dim() != 3 || chw.size(0) != 3) throw std::invalid_argument("tensor_to_image: expected [3, H, W]");
  const auto mean = torch::tensor({kImageNetMean[0], kImageNetMean[1], kImageNetMean[2]}).view({3, 1, 1});
  const auto std = torch::tensor({kImageNetStd[0], kImageNetStd[1], kImageNetStd[2]}).view({3, 1, 1});
  const auto rgb = (chw.detach().to(torch::kCPU, torch::kFloat32) * std + mean)
                       .mul(255)
                       .round()
                       .clamp(0, 255)
                       .to(torch::kUInt8)
                       .flip({0})
                       .permute({1, 2, 0})
                       .contiguous();  // BGR, HWC
  return cv::Mat(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, rgb.data_ptr<uint8_t>())
      .clone();
}

Batch collate(const std::vector<HandSample>& samples) {
  if (samples.empty()) throw std::invalid_argument("collate: no samples");
  const int64_t B = static_cast<int64_t>(samples.size()), H = samples[0].image.rows, W = samples[0].image.cols;
  auto image = torch::empty({B, 3, H, W}), xyz = torch::empty({B, kHandJoints, 3}),
       uv = torch::empty({B, kHandJoints, 2});
  auto visible = torch::empty({B, kHandJoints}), root = torch::empty({B, 3}), scale = torch::empty({B});
  auto K = torch::empty({B, 3, 3});
  auto xyz_a = xyz.accessor<float, 3>(), uv_a = uv.accessor<float, 3>(), K_a = K.accessor<float, 3>();
  auto vis_a = visible.accessor<float, 2>(), root_a = root.accessor<float, 2>();
  auto scale_a = scale.accessor<float, 1>();
  for (int64_t b = 0; b < B; ++b) {
    const HandSample& s = samples[static_cast<size_t>(b)];
    if (s.image.rows != H || s.image.cols != W || s.image.type() != CV_8UC3)
      throw std::invalid_argument("collate: " + s.source + " is not a BGR uint8 image of " + std::to_string(W) + "x" +
                                  std::to_string(H) + " like the first sample");
    if (s.xyz_mm.size() != kHandJoints || s.uv.size() != kHandJoints || s.visible.size() != kHandJoints)
      throw std::invalid_argument("collate: " + s.source + " does not have 21 joints");
    const double ref = hand_reference_bone_mm(s.xyz_mm);
    if (!(ref > 1e-6)) throw std::invalid_argument("collate: " + s.source + " has a degenerate wrist-middle MCP bone");
    write_image(s.image, image[b].data_ptr<float>());
    const cv::Point3d r = s.xyz_mm[kWrist];
    root_a[b][0] = static_cast<float>(r.x), root_a[b][1] = static_cast<float>(r.y),
    root_a[b][2] = static_cast<float>(r.z);
    scale_a[b] = static_cast<float>(ref);
    for (int j = 0; j < kHandJoints; ++j) {
      const cv::Point3d p = (s.xyz_mm[static_cast<size_t>(j)] - r) / ref;
      xyz_a[b][j][0] = static_cast<float>(p.x), xyz_a[b][j][1] = static_cast<float>(p.y),
      xyz_a[b][j][2] = static_cast<float>(p.z);
      uv_a[b][j][0] = static_cast<float>((2 * s.uv[static_cast<size_t>(j)].x + 1) / W - 1);
      uv_a[b][j][1] = static_cast<float>((2 * s.uv[static_cast<size_t>(j)].y + 1) / H - 1);
      vis_a[b][j] = s.visible[static_cast<size_t>(j)];
    }
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 3; ++k) K_a[b][i][k] = static_cast<float>(s.K(i, k));
  }
  return {{"image", image},  {"xyz", xyz},        {"uv", uv}, {"visible", visible},
          {"root_mm", root}, {"scale_mm", scale}, {"K", K}};
}

torch::Tensor xyz_to_mm(const torch::Tensor& xyz, const torch::Tensor& root_mm, const torch::Tensor& scale_mm) {
  return xyz * scale_mm.unsqueeze(-1).unsqueeze(-1) + root_mm.unsqueeze(-2);
}

torch::Tensor uv_to_pixels(const torch::Tensor& uv, int64_t width, int64_t height) {
  const auto size = torch::tensor({static_cast<double>(width), static_cast<double>(height)}, uv.options());
  return ((uv + 1) * size - 1) / 2;
}

HandSource records_source(std::vector<HandRecord> records) {
  auto shared = std::make_shared<const std::vector<HandRecord>>(std::move(records));
  return {static_cast<int64_t>(shared->size()),
          [shared](int64_t i) { return load_hand_image(shared->at(static_cast<size_t>(i))); }};
}

HandSource synthetic_source(int64_t size, uint64_t seed, int image_size) {
  return {size, [seed, image_size](int64_t i) {
            return synthetic_hand(mix_seed(seed, static_cast<uint64_t>(i)), image_size);
          }};
}

HandLoader::HandLoader(HandSource source, HandLoaderOptions options)
    : source_(std::move(source)),
      options_(std::move(options)),
      main_sampler_(std::max<int64_t>(source_.size, 1), mix_seed(options_.seed, kSamplerSalt)) {
  if (source_.size <= 0 || !source_.get) throw std::invalid_argument("HandLoader: empty data source");
  if (options_.batch_size <= 0 || options_.image_size <= 0 || options_.num_workers < 0 || options_.first_batch < 0 ||
      options_.batch_stride <= 0)
    throw std::invalid_argument(
        "HandLoader: batch_size, image_size and batch_stride must be positive, num_workers and first_batch >= 0");
  options_.augment_options.output_size = options_.image_size;
  try {
    for (int w = 0; w < options_.num_workers; ++w) workers_.emplace_back([this] { worker(); });
  } catch (...) {  // no destructor runs for a half-built object: join what was started
    stop_workers();
    throw;
  }
}

void HandLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

HandLoader::~HandLoader() { stop_workers(); }

namespace {

// The machine running out of memory is no fault of the file being read: it must end the run
// with its own message, never be counted as a skipped sample.
bool out_of_memory(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) return true;
  if (const auto* cv_error = dynamic_cast<const cv::Exception*>(&e)) return cv_error->code == cv::Error::StsNoMem;
  // LibTorch 1.13's CPU allocator throws a plain c10::Error with this text.
  return std::string(e.what()).find("can't allocate memory") != std::string::npos;
}

}  // namespace

HandSample HandLoader::load(int64_t& index) const {
  for (int64_t attempt = 0; attempt < source_.size; ++attempt) {
    const int64_t i = (index + attempt) % source_.size;
    try {
      HandSample s = source_.get(i);
      index = i;
      return s;
    } catch (const std::exception& e) {
      if (!options_.skip_bad_images || out_of_memory(e)) throw;
      std::lock_guard<std::mutex> lock(warn_mutex_);
      if (warned_.emplace(i, e.what()).second)
        std::cerr << "warning: skipping sample " << i << " (replaced by the next one): " << e.what() << std::endl;
    }
  }
  throw std::runtime_error("HandLoader: no sample of the data set could be loaded");
}

std::map<int64_t, std::string> HandLoader::skipped() const {
  std::lock_guard<std::mutex> lock(warn_mutex_);
  return warned_;
}

Batch HandLoader::make_batch(int64_t i, EpochSampler& sampler) const {
  std::vector<HandSample> samples;
  std::vector<int64_t> indices;
  for (int64_t k = 0; k < options_.batch_size; ++k) {
    const int64_t p = i * options_.batch_size + k;
    int64_t index = options_.shuffle ? sampler(p) : p % source_.size;
    // Only the loading may be skipped: an exception from augmentation is a bug, not bad data.
    const HandSample s = load(index);
    const uint64_t seed = mix_seed(options_.seed, static_cast<uint64_t>(p));
    samples.push_back(options_.augment ? augment(s, options_.augment_options, seed)
                                       : resize_to(s, options_.image_size));
    indices.push_back(index);
  }
  Batch batch = collate(samples);
  batch["index"] = torch::tensor(indices, torch::kInt64);
  return batch;
}

Batch HandLoader::batch(int64_t i) const {
  EpochSampler sampler(source_.size, mix_seed(options_.seed, kSamplerSalt));
  return make_batch(i, sampler);
}

void HandLoader::worker() {
  EpochSampler sampler(source_.size, mix_seed(options_.seed, kSamplerSalt));  // caches one epoch per worker
  const int64_t ahead = std::max(options_.prefetch, options_.num_workers);
  for (;;) {
    int64_t i;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] { return stop_ || next_claim_ < next_out_ + ahead; });
      if (stop_) return;
      i = next_claim_++;
    }
    Slot slot;
    try {
      slot.batch = make_batch(options_.first_batch + i * options_.batch_stride, sampler);
    } catch (...) {  // delivered to next() in order; a thread must never let it escape
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(i, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

Batch HandLoader::next() {
  if (workers_.empty()) return make_batch(options_.first_batch + options_.batch_stride * next_out_++, main_sampler_);
  Slot slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_out_) > 0; });
    auto it = ready_.find(next_out_);
    slot = std::move(it->second);
    ready_.erase(it);
    ++next_out_;
  }
  work_cv_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

std::vector<Batch> fixed_batches(const HandSource& source, int64_t n, int64_t batch_size, int image_size,
                                     int workers, bool skip_bad_images, std::vector<std::string>* skipped) {
  HandLoaderOptions o;
  // A batch never holds more than the n samples asked for: the loader fills a batch by wrapping
  // around its source, so eval.batch_size=1000000 on 80 images would decode a million.
  batch_size = std::max<int64_t>(1, std::min(batch_size, n));
  o.batch_size = batch_size;
  o.image_size = image_size;
  o.augment = false;
  o.shuffle = false;
  o.num_workers = workers;
  o.skip_bad_images = skip_bad_images;
  HandLoader loader(HandSource{n, source.get}, o);
  std::vector<Batch> batches;
  for (int64_t start = 0; start < n; start += batch_size) {
    Batch b = loader.next();
    const int64_t k = std::min(batch_size, n - start);
    // Row r holds sample start + r unless that one failed to load and the loader put the next
    // one in its place: keep only the rows that are the sample asked for.
    const auto index = b.at("index");
    std::vector<int64_t> keep;
    for (int64_t r = 0; r < k; ++r)
      if (index[r].item<int64_t>() == start + r) keep.push_back(r);
    if (keep.empty()) continue;
    if (static_cast<int64_t>(keep.size()) < batch_size) {
      const torch::Tensor rows = torch::tensor(keep, torch::kInt64);
      for (auto& entry : b) entry.second = entry.second.index_select(0, rows);
    }
    batches.push_back(std::move(b));
  }
  if (batches.empty()) throw std::runtime_error("fixed_batches: none of the " + std::to_string(n) + " samples could be loaded");
  if (skipped) {
    skipped->clear();
    for (const auto& entry : loader.skipped()) skipped->push_back(entry.second);
  }
  return batches;
}

void rotate_to_upright_camera(Batch& batch) {
  const torch::Tensor K = batch.at("K");
  const auto d = K.select(1, 1).select(1, 0), e = K.select(1, 1).select(1, 1);
  const auto theta = torch::atan2(d, e);
  const auto c = theta.cos(), s = theta.sin();
  const auto zero = torch::zeros_like(c), one = torch::ones_like(c);
  // R = Rz(theta); rows of xyz become R·x, i.e. xyz · R^T.
  const auto R = torch::stack({c, -s, zero, s, c, zero, zero, zero, one}, 1).view({-1, 3, 3});
  const auto Rt = R.transpose(1, 2);
  batch["K"] = K.matmul(Rt);
  batch["xyz"] = batch.at("xyz").matmul(Rt);
  batch["root_mm"] = batch.at("root_mm").unsqueeze(1).matmul(Rt).squeeze(1);
}

}  // namespace zoo
