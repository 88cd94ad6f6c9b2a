#pragma once
// Heatmap keypoint network: a plain conv encoder down to stride 16, an upsampling decoder back to
// stride 2, and a 1x1 conv to one heatmap (logits) per keypoint. Coordinates come from the
// heatmaps by a soft-argmax (models/soft_argmax.h) or per-axis classification
// (losses/coord_loss.h); the network itself only produces the logits.
//
// With the defaults it is the Python twin's network (bench/peers/bench_heatmap.py):
//   encoder  cbr(3,32,2) cbr(32,32,1) | cbr(32,64,2) cbr(64,64,1) | cbr(64,128,2) cbr(128,128,1)
//            | cbr(128,256,2) cbr(256,256,1)       cbr = Conv3x3(bias=False) + BN + ReLU
//   decoder  3 x [ConvTranspose2d(4, stride 2, pad 1, bias=False) + BN + ReLU], 256->128->64->64
//   head     Conv2d(64, K, 1)                      128 px in -> K x 64 x 64 heatmaps
// decoder = "upsample" replaces each transposed convolution by nearest x2 upsampling and a 3x3
// convolution: the same receptive-field growth, and LibTorch 1.13 runs it on the fast (oneDNN)
// convolution path, where its transposed convolution takes a slow generic kernel.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace zoo {

struct HeatmapNetOptions {
  std::vector<int64_t> encoder_channels = {32, 64, 128, 256};  // one stride-2 stage each
  std::vector<int64_t> decoder_channels = {128, 64, 64};       // one x2 upsampling stage each
  std::string decoder = "deconv";                              // deconv | upsample
  int64_t num_keypoints = 21;
  int64_t in_channels = 3;
};

class HeatmapNetImpl : public torch::nn::Module {
 public:
  explicit HeatmapNetImpl(const HeatmapNetOptions& options = {});
  // images [B, C, H, W] -> heatmap logits [B, K, H * 2^d / 2^e, W * 2^d / 2^e] (d decoder, e
  // encoder stages: 128 px -> 64 x 64 with the defaults).
  torch::Tensor forward(const torch::Tensor& images);
  // Heatmap side / image side (0.5 with the defaults).
  double output_scale() const;

  HeatmapNetOptions options;
  torch::nn::Sequential encoder{nullptr}, decoder{nullptr};
  torch::nn::Conv2d head{nullptr};
};
TORCH_MODULE(HeatmapNet);

}  // namespace zoo
