#pragma once
// ONNX of the region proposal network (io/formats/onnx_graph.h), as export_rpn_torchscript:
//   images [batch, 3, height, width], image_sizes [batch, 2] int64 (height, width) before padding
//     -> boxes [batch, N, 4], scores [batch, N], counts [batch] int64,
// N = post_nms_top_n_test, rows past counts[b] zero. The post-processing is in the graph: the
// anchors of the feature grid, top-k by objectness, box decoding and clipping to each image's
// size, the min_size and score_thresh filters, NonMaxSuppression (batched over images, one
// class), and the first N by score packed per image.
#include <string>

#include "models/detection/rpn.h"
#include "models/resnet.h"

namespace zoo {

// One feature level only (as the TorchScript export); the test-mode top-n values. Writes path
// atomically.
void export_rpn_onnx(ResNetImpl& backbone, RegionProposalNetworkImpl& rpn, const std::string& path);

}  // namespace zoo
