#pragma once
// Inference over an export directory (`zoo export --run DIR` writes DIR/export): load it once,
// then call a typed predictor that applies exactly the preprocessing and decoding the model was
// trained with. `zoo predict` is a client of these classes, so the command line and a program
// linking zoo::infer cannot disagree.
//
//   zoo::infer::SentenceSimilarity sts("runs/sts/export");
//   double s = sts.score("A man plays a guitar.", "Someone plays the guitar.");  // 0..5
//
// Threads: a predictor is immutable after construction; any number of threads may call its
// const methods at once (one TorchScript module, run under torch::InferenceMode per call). Each
// call uses LibTorch's intra-op thread pool (torch::set_num_threads).
// Errors: a missing or unreadable export, a meta.json of another task or of an unknown
// format_version, and bad input (text without [MASK], an empty image) throw std::runtime_error
// with a one-line message naming the file or the input.
// Images are BGR uint8 cv::Mat, as cv::imread returns them; coordinates are pixels of the image
// passed in (x right, y down, pixel centres at integers).
#include <torch/script.h>

#include <opencv2/core.hpp>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "infer/export_dir.h"

namespace zoo {
class WordPieceTokenizer;
struct StsEncodedPair;
}

namespace zoo::infer {

// Masked language model (task mlm): the most likely tokens at each [MASK] of a text.
class MaskedLM {
 public:
  explicit MaskedLM(const std::string& export_dir, const torch::Device& device = torch::kCPU);
  ~MaskedLM();
  struct Candidate {
    std::string token;
    double probability = 0;
  };
  // One list per [MASK] in `text` (written literally as "[MASK]"), best first, top_k long.
  std::vector<std::vector<Candidate>> fill(const std::string& text, int64_t top_k = 5) const;
  std::vector<std::vector<std::vector<Candidate>>> fill(const std::vector<std::string>& texts, int64_t top_k = 5) const;
  // Token ids with [CLS] ... [SEP] as the model sees them ("<unk>" and "[MASK]" become their ids).
  std::vector<int64_t> encode(const std::string& text) const;
  const ExportDir& export_dir() const { return export_; }

 private:
  ExportDir export_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  mutable torch::jit::Module module_;  // forward is not const; concurrent calls are safe
  torch::Device device_;
  int64_t max_seq_len_ = 0;
};

// Sentence-pair similarity (task sts), cross- or bi-encoder: a score in the export's score_range
// (0..5 for STS-B); for bi-encoders also sentence embeddings.
class SentenceSimilarity {
 public:
  explicit SentenceSimilarity(const std::string& export_dir, const torch::Device& device = torch::kCPU);
  ~SentenceSimilarity();
  double score(const std::string& a, const std::string& b) const;
  // Many pairs: run in chunks of similar length (each chunk is padded to its longest pair);
  // the scores come back in the order of `pairs`. embed() likewise.
  std::vector<double> score(const std::vector<std::pair<std::string, std::string>>& pairs) const;
  bool is_bi_encoder() const { return bi_; }
  // [N, hidden] float32 on the CPU (L2-normalised when the export says so); bi-encoders only.
  torch::Tensor embed(const std::vector<std::string>& sentences) const;
  // The model's inputs for pairs, by name (meta.json "inputs"), as training collates them.
  std::map<std::string, torch::Tensor> encode(const std::vector<std::pair<std::string, std::string>>& pairs) const;
  const ExportDir& export_dir() const { return export_; }

 private:
  std::vector<StsEncodedPair> tokenize(const std::vector<std::pair<std::string, std::string>>& pairs) const;
  std::map<std::string, torch::Tensor> collate(const std::vector<const StsEncodedPair*>& picked) const;
  // Tokenizes `pairs`, then calls `run` on chunks of similar length: the chunk's model inputs and
  // the chunk's rows, as indices into `pairs`.
  using ChunkFn = std::function<void(const std::map<std::string, torch::Tensor>&, const std::vector<int64_t>&)>;
  void for_each_chunk(const std::vector<std::pair<std::string, std::string>>& pairs, const ChunkFn& run) const;

  ExportDir export_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  mutable torch::jit::Module module_;  // forward is not const; concurrent calls are safe
  torch::Device device_;
  bool bi_ = false;
  int64_t max_seq_len_ = 0;
  std::vector<int64_t> match_class_;
};

// 21 hand joints in the order of meta.json "keypoint_names" (wrist, then four per finger).
struct HandJoints {
  std::vector<cv::Point2d> uv;  // pixels of the input image
  // Root-relative (wrist = 0) camera-space mm, assuming the typical training hand size (the
  // image alone has no scale); empty for a 2D model.
  std::vector<cv::Point3d> xyz_mm;
};

// Hand keypoint regressor (task keypoints) or heatmap model (task heatmap) on a crop around one
// hand: the crop is resized to the model's square input as training resized its samples. A 3D
// regressor's pose is placed on the image with the training set's typical focal length and hand
// extent (meta.json "placement"), since a bare image has no intrinsics.
//
// Speed: the vision predictors run their model through torch::jit::optimize_for_inference on
// the CPU (BatchNorm folded into the convolutions, oneDNN convolutions; ExportDir::load_module).
// Outputs differ from the exported model's at float rounding (measured in docs/speed.md); pass
// optimize_for_inference = false for the exported graph as it is.
class HandPose {
 public:
  explicit HandPose(const std::string& export_dir, const torch::Device& device = torch::kCPU,
                    bool optimize_for_inference = true);
  HandJoints predict(const cv::Mat& bgr) const;
  std::vector<HandJoints> predict(const std::vector<cv::Mat>& bgr) const;
  // The model input for one image: [3, S, S] float32, as training's resize_to + image_to_tensor.
  torch::Tensor preprocess(const cv::Mat& bgr) const;
  bool is_3d() const { return coord_dims_ == 3; }
  const std::vector<std::string>& joint_names() const { return joint_names_; }
  const ExportDir& export_dir() const { return export_; }
  // What xyz_mm assumes: the typical wrist -> middle MCP length of the training hands.
  double typical_scale_mm() const { return scale_mm_; }
  double typical_focal_per_image_size() const { return focal_per_size_; }

 private:
  ExportDir export_;
  mutable torch::jit::Module module_;  // forward is not const; concurrent calls are safe
  torch::Device device_;
  bool heatmap_ = false;
  int64_t coord_dims_ = 2;
  int image_size_ = 0;
  double scale_mm_ = 0, focal_per_size_ = 0, extent_ = 0;
  std::vector<std::string> joint_names_;
};

// The heatmap task's model through the same interface (2D joints only).
using HeatmapKeypoints = HandPose;

// Region proposals (task rpn): boxes likely to hold an object, best first.
struct Proposal {
  std::array<double, 4> box;  // x1, y1, x2, y2 in pixels of the input image
  double score = 0;           // objectness probability
};
class RegionProposals {
 public:
  explicit RegionProposals(const std::string& export_dir, const torch::Device& device = torch::kCPU,
                           bool optimize_for_inference = true);
  // At most top_n proposals (all the model keeps, meta.json post_nms_top_n, when top_n <= 0).
  std::vector<Proposal> propose(const cv::Mat& bgr, int64_t top_n = 0) const;
  std::vector<std::vector<Proposal>> propose(const std::vector<cv::Mat>& bgr, int64_t top_n = 0) const;
  // The model inputs for images, as training's make_detection_batch builds them: images
  // [N, 3, H, W] (resized, normalised, padded to size_divisible) and image_sizes [N, 2] (h, w).
  std::pair<torch::Tensor, torch::Tensor> preprocess(const std::vector<cv::Mat>& bgr) const;
  const ExportDir& export_dir() const { return export_; }

 private:
  ExportDir export_;
  mutable torch::jit::Module module_;  // forward is not const; concurrent calls are safe
  torch::Device device_;
  int min_size_ = 0, max_size_ = 0, size_divisible_ = 32;
};

}  // namespace zoo::infer
