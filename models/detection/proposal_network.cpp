#include "models/detection/proposal_network.h"

namespace zoo {

ProposalNetworkImpl::ProposalNetworkImpl(ResNetOptions backbone_options, RpnOptions rpn_options) {
  backbone_options.num_stages = 3;
  backbone = register_module("backbone", ResNet(backbone_options));
  rpn_options.in_channels = backbone->out_channels();
  rpn = register_module("rpn", RegionProposalNetwork(rpn_options));
}

RpnOutput ProposalNetworkImpl::forward(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes) {
  return rpn->forward({images.size(2), images.size(3)}, image_sizes, {backbone->forward_features(images)});
}

}  // namespace zoo
