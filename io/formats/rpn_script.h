#pragma once
// The RPN's proposal post-processing as TorchScript source, so an exported detector can carry
// it without Python: torch::jit::Module::define(rpn_proposal_script(options)) adds the methods
//
//   rpn_anchors(padded_size: List[int], features: List[Tensor]) -> Tensor         [T, 4]
//   rpn_decode(deltas: Tensor, anchors: Tensor) -> Tensor                           [K, 4]
//   rpn_batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor
//   rpn_proposals(objectness: Tensor, deltas: Tensor, anchors: Tensor, image_size: List[int],
//                 num_anchors_per_level: List[int]) -> Tuple[Tensor, Tensor]    (boxes, scores)
//
// and their helper rpn_grid.
//
// rpn_proposals works on one image (objectness [T], deltas [T, 4], anchors [T, 4], image_size
// (height, width)) and returns what RegionProposalNetwork::filter_proposals returns for it in
// the chosen mode. The options (cell anchors, box-coder clip, top-n values, thresholds) are
// baked into the source as literals. Every step uses the same tensor expressions as the C++
// path, and the NMS (written here in TorchScript: an IoU matrix, then a greedy pass in stable
// score order) compares IoU > threshold in double like box_ops' nms, so results are identical.
// The IoU matrix costs O(n^2) memory: about 40 MB of temporaries for the 1000 boxes of eval mode,
// about 150 MB for 2000.
#include <string>

#include "models/detection/rpn.h"
#include "models/resnet.h"

namespace zoo {

// training selects the *_train top-n values, otherwise *_test (the eval-mode proposals).
std::string rpn_proposal_script(const RpnOptions& options, bool training = false);

// The whole proposal network as TorchScript, its post-processing (above) inside the graph:
//   forward(images [B, 3, H, W], image_sizes [B, 2] int64 (height, width) before padding)
//     -> (boxes [B, N, 4], scores [B, N], counts [B]): per image the proposals by decreasing
//        objectness, N = post_nms_top_n_test, rows past counts[b] zero.
// Uses the RPN's test-mode (eval) top-n values; one feature level; writes `path` atomically.
void export_rpn_torchscript(ResNetImpl& backbone, RegionProposalNetworkImpl& rpn, const std::string& path);

}  // namespace zoo
