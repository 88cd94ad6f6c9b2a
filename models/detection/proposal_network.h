#pragma once
// The network of task "rpn": a ResNet backbone cut after layer3 (stride 16, the Faster R-CNN
// paper's C4 feature map) and the region proposal network on its feature map.
#include <torch/torch.h>

#include <vector>

#include "models/detection/rpn.h"
#include "models/resnet.h"

namespace zoo {

class ProposalNetworkImpl : public torch::nn::Module {
 public:
  // backbone_options.num_stages is set to 3; rpn_options.in_channels to the backbone's width.
  ProposalNetworkImpl(ResNetOptions backbone_options, RpnOptions rpn_options);
  // images [B, 3, H, W] (padded), image_sizes: (height, width) of each before padding.
  RpnOutput forward(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes);

  ResNet backbone{nullptr};
  RegionProposalNetwork rpn{nullptr};
};
TORCH_MODULE(ProposalNetwork);

}  // namespace zoo
