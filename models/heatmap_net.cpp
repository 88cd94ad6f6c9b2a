#include "models/heatmap_net.h"

#include <cmath>

namespace zoo {

namespace nn = torch::nn;

namespace {

void add_conv_bn_relu(nn::Sequential& seq, int64_t in, int64_t out, int64_t stride) {
  seq->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  seq->push_back(nn::BatchNorm2d(out));
  seq->push_back(nn::ReLU(nn::ReLUOptions().inplace(true)));
}

}  // namespace

HeatmapNetImpl::HeatmapNetImpl(const HeatmapNetOptions& opts) : options(opts) {
  TORCH_CHECK(!options.encoder_channels.empty() && options.num_keypoints > 0,
              "HeatmapNet: need at least one encoder stage and one keypoint");
  TORCH_CHECK(options.decoder == "deconv" || options.decoder == "upsample",
              "HeatmapNet: decoder must be deconv or upsample, got ", options.decoder);
  TORCH_CHECK(options.decoder_channels.size() <= options.encoder_channels.size(),
              "HeatmapNet: more decoder than encoder stages would upsample past the input size");
  encoder = nn::Sequential();
  int64_t c = options.in_channels;
  for (const int64_t out : options.encoder_channels) {
    add_conv_bn_relu(encoder, c, out, 2);
    add_conv_bn_relu(encoder, out, out, 1);
    c = out;
  }
  decoder = nn::Sequential();
  for (const int64_t out : options.decoder_channels) {
    if (options.decoder == "deconv") {
      decoder->push_back(
          nn::ConvTranspose2d(nn::ConvTranspose2dOptions(c, out, 4).stride(2).padding(1).bias(false)));
    } else {
      decoder->push_back(nn::Upsample(
          nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest)));
      decoder->push_back(nn::Conv2d(nn::Conv2dOptions(c, out, 3).padding(1).bias(false)));
    }
    decoder->push_back(nn::BatchNorm2d(out));
    decoder->push_back(nn::ReLU(nn::ReLUOptions().inplace(true)));
    c = out;
  }
  register_module("encoder", encoder);
  register_module("decoder", decoder);
  head = register_module("head", nn::Conv2d(nn::Conv2dOptions(c, options.num_keypoints, 1)));
}

torch::Tensor HeatmapNetImpl::forward(const torch::Tensor& images) {
  return head(decoder->forward(encoder->forward(images)));
}

double HeatmapNetImpl::output_scale() const {
  return std::ldexp(1.0, static_cast<int>(options.decoder_channels.size()) -
                             static_cast<int>(options.encoder_channels.size()));
}

}  // namespace zoo
