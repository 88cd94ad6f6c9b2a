#pragma once
// TorchScript export of the region proposal network with its post-processing inside the graph
// (anchors, box decoding, clipping, small-box and score filtering, NMS, top-n), so that a
// Python or C++ caller gets the proposals `zoo predict` gives without this code. Written as
// TorchScript source (torch::jit::Module::define), so no Python is needed to make it; NMS is the
// greedy torchvision algorithm written in TorchScript.
//   forward(images [B, 3, H, W], image_sizes [B, 2] int64 (height, width) before padding)
//     -> (boxes [B, N, 4], scores [B, N], counts [B]): per image the proposals by decreasing
//        objectness, N = post_nms_top_n_test, rows past counts[b] zero.
#include <string>

#include "data/detection_batch.h"
#include "models/detection/proposal_network.h"
#include "models/detection/rpn.h"
#include "models/resnet.h"

namespace zoo {

// The export of an rpn run (README "Run directory"): model.pt as above, weights.pt and
// weights.safetensors, meta.json (input preprocessing, outputs, post-processing settings).
// `net` must be in eval mode.
void write_rpn_export(const std::string& dir, ProposalNetworkImpl& net, const DetectionTransformOptions& transform);

}  // namespace zoo
