#include "models/detection/rpn.h"

#include <algorithm>

#include "models/detection/box_ops.h"

namespace zoo {
namespace {

MatcherOptions matcher_options(const RpnOptions& o) {
  MatcherOptions m;
  m.high_threshold = o.fg_iou_thresh;
  m.low_threshold = o.bg_iou_thresh;
  m.allow_low_quality_matches = true;
  m.zero_iou_guard = o.zero_iou_guard;
  return m;
}

int64_t anchors_per_location(const AnchorGeneratorOptions& a) {
  const auto counts = AnchorGenerator(a).num_anchors_per_location();
  TORCH_CHECK(std::all_of(counts.begin(), counts.end(), [&](int64_t c) { return c == counts[0]; }),
              "RegionProposalNetwork: one head serves all levels, so every level needs the same "
              "number of anchors per location");
  return counts[0];
}

// [N, A * C, H, W] -> [N, H * W * A, C]: anchors innermost, as the anchor generator orders them.
torch::Tensor permute_and_flatten(const torch::Tensor& layer, int64_t c) {
  const int64_t n = layer.size(0), h = layer.size(2), w = layer.size(3);
  return layer.view({n, -1, c, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, c});
}

// Per-image anchor indices -> indices into the batch's N * T anchors.
void set_sample(RpnTargets& targets, const std::vector<SampledIndices>& sample) {
  const int64_t t = targets.labels.numel() / static_cast<int64_t>(sample.size());
  std::vector<torch::Tensor> pos, neg;
  for (size_t i = 0; i < sample.size(); ++i) {
    pos.push_back(sample[i].positive + static_cast<int64_t>(i) * t);
    neg.push_back(sample[i].negative + static_cast<int64_t>(i) * t);
  }
  targets.sampled_positive = torch::cat(pos);
  targets.sampled_negative = torch::cat(neg);
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> concat_box_prediction_layers(
    const std::vector<torch::Tensor>& logits, const std::vector<torch::Tensor>& deltas) {
  TORCH_CHECK(!logits.empty() && logits.size() == deltas.size(),
              "concat_box_prediction_layers: need as many delta maps as logit maps");
  std::vector<torch::Tensor> cls, reg;
  for (size_t l = 0; l < logits.size(); ++l) {
    TORCH_CHECK(
        logits[l].dim() == 4 && deltas[l].dim() == 4 && deltas[l].size(1) == 4 * logits[l].size(1),
        "concat_box_prediction_layers: level ", l, " has logits ", logits[l].sizes(),
        " and deltas ", deltas[l].sizes(), "; need [N, A, H, W] and [N, 4A, H, W]");
    cls.push_back(permute_and_flatten(logits[l], 1));
    reg.push_back(permute_and_flatten(deltas[l], 4));
  }
  return {torch::cat(cls, 1).reshape(-1), torch::cat(reg, 1).reshape({-1, 4})};
}

RegionProposalNetworkImpl::RegionProposalNetworkImpl(const RpnOptions& options)
    : anchor_generator(options.anchors),
      box_coder(BoxCoderOptions{}),
      matcher(matcher_options(options)),
      sampler(options.batch_size_per_image, options.positive_fraction),
      options_(options) {
  TORCH_CHECK(options_.pre_nms_top_n_train > 0 && options_.pre_nms_top_n_test > 0 &&
                  options_.post_nms_top_n_train > 0 && options_.post_nms_top_n_test > 0,
              "RegionProposalNetwork: the top-n values must be > 0");
  head = register_module(
      "head",
      RPNHead(options_.in_channels, anchors_per_location(options_.anchors), options_.conv_depth));
}

RpnOutput RegionProposalNetworkImpl::forward(const ImageSize& padded_size,
                                             const std::vector<ImageSize>& image_sizes,
                                             const std::vector<torch::Tensor>& features) {
  TORCH_CHECK(!features.empty(), "RegionProposalNetwork: no feature maps");
  const int64_t num_images = features[0].size(0);
  TORCH_CHECK(static_cast<int64_t>(image_sizes.size()) == num_images,
              "RegionProposalNetwork: ", image_sizes.size(), " image sizes for a batch of ",
              num_images);
  for (const auto& s : image_sizes)
    TORCH_CHECK(s[0] > 0 && s[1] > 0 && s[0] <= padded_size[0] && s[1] <= padded_size[1],
                "RegionProposalNetwork: image size ", s[0], "x", s[1],
                " must be positive and fit the padded batch ", padded_size[0], "x", padded_size[1]);

  RpnOutput out;
  const auto [logits, deltas] = head->forward(features);
  out.anchors = anchor_generator(padded_size, features);
  for (const auto& l : logits)
    out.num_anchors_per_level.push_back(l.size(1) * l.size(2) * l.size(3));
  std::tie(out.objectness, out.pred_deltas) = concat_box_prediction_layers(logits, deltas);

  // Faster R-CNN does not backpropagate through the proposals.
  const auto all_anchors = out.anchors.repeat({num_images, 1});
  const auto proposals =
      box_coder.decode(out.pred_deltas.detach(), all_anchors).view({num_images, -1, 4});
  std::tie(out.boxes, out.scores) =
      filter_proposals(proposals, out.objectness.detach().view({num_images, -1}), image_sizes,
                       out.num_anchors_per_level);
  return out;
}

std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>>
RegionProposalNetworkImpl::filter_proposals(
    const torch::Tensor& proposals, const torch::Tensor& objectness,
    const std::vector<ImageSize>& image_sizes,
    const std::vector<int64_t>& num_anchors_per_level) const {
  const int64_t num_images = proposals.size(0);
  TORCH_CHECK(proposals.dim() == 3 && proposals.size(2) == 4 && objectness.dim() == 2 &&
                  objectness.size(0) == num_images && objectness.size(1) == proposals.size(1) &&
                  static_cast<int64_t>(image_sizes.size()) == num_images,
              "filter_proposals: need proposals [N, T, 4], objectness [N, T] and N image sizes");
  const bool train = is_training();
  const int64_t pre_nms = train ? options_.pre_nms_top_n_train : options_.pre_nms_top_n_test;
  const int64_t post_nms = train ? options_.post_nms_top_n_train : options_.post_nms_top_n_test;

  // Top pre_nms logits of every level (topk's order: decreasing), with their level ids.
  std::vector<torch::Tensor> top_idx, top_level;
  int64_t offset = 0;
  for (size_t l = 0; l < num_anchors_per_level.size(); ++l) {
    const int64_t n = num_anchors_per_level[l];
    const auto level = objectness.narrow(1, offset, n);
    const auto idx = std::get<1>(level.topk(std::min(pre_nms, n), 1)) + offset;
    top_idx.push_back(idx);
    top_level.push_back(torch::full_like(idx, static_cast<int64_t>(l)));
    offset += n;
  }
  TORCH_CHECK(offset == objectness.size(1), "filter_proposals: the levels hold ", offset,
              " anchors, objectness ", objectness.size(1));
  const auto idx = torch::cat(top_idx, 1);
  const auto levels = torch::cat(top_level, 1);
  const auto prob = torch::sigmoid(objectness.detach().gather(1, idx));
  const auto boxes = proposals.detach().gather(1, idx.unsqueeze(2).expand({-1, -1, 4}));

  std::vector<torch::Tensor> final_boxes, final_scores;
  for (int64_t i = 0; i < num_images; ++i) {
    auto b = clip_boxes_to_image(boxes[i], image_sizes[i][0], image_sizes[i][1]);
    auto s = prob[i];
    auto lvl = levels[i];
    auto keep = remove_small_boxes(b, options_.min_size);
    b = b.index({keep}), s = s.index({keep}), lvl = lvl.index({keep});
    keep = torch::nonzero(s >= options_.score_thresh).squeeze(1);
    b = b.index({keep}), s = s.index({keep}), lvl = lvl.index({keep});
    keep = batched_nms(b, s, lvl, options_.nms_thresh);
    keep = keep.narrow(0, 0, std::min(post_nms, keep.size(0)));
    final_boxes.push_back(b.index({keep}));
    final_scores.push_back(s.index({keep}));
  }
  return {final_boxes, final_scores};
}

RpnTargets RegionProposalNetworkImpl::match(const RpnOutput& output,
                                            const std::vector<torch::Tensor>& gt_boxes) const {
  const auto& anchors = output.anchors;
  const int64_t t = anchors.size(0);
  TORCH_CHECK(
      !gt_boxes.empty() && static_cast<int64_t>(gt_boxes.size()) * t == output.objectness.numel(),
      "RegionProposalNetwork: ", gt_boxes.size(), " gt box sets for a batch of ",
      output.objectness.numel() / std::max<int64_t>(t, 1), " images");
  std::vector<torch::Tensor> idxs, labels, targets;
  for (size_t i = 0; i < gt_boxes.size(); ++i) {
    const auto gt = gt_boxes[i].to(anchors.options());
    TORCH_CHECK((gt.dim() == 2 && gt.size(1) == 4) || gt.numel() == 0,
                "RegionProposalNetwork: gt boxes of image ", i, " must be [M, 4], got ",
                gt.sizes());
    if (gt.numel() == 0) {  // background image: every anchor negative
      idxs.push_back(
          torch::full({t}, Matcher::kBelowLowThreshold, anchors.options().dtype(torch::kLong)));
      labels.push_back(torch::zeros({t}, anchors.options()));
      // torchvision encodes against all-zero boxes here (-inf widths); only positives are ever
      // read, so zeros say the same without non-finite values.
      targets.push_back(torch::zeros({t, 4}, anchors.options()));
      continue;
    }
    // As torchvision's GeneralizedRCNN: a degenerate box would give log(0) targets.
    TORCH_CHECK(((gt.select(1, 2) > gt.select(1, 0)) & (gt.select(1, 3) > gt.select(1, 1)))
                    .all()
                    .item<bool>(),
                "RegionProposalNetwork: all gt boxes need positive width and height (image ", i,
                ")");
    const auto m = matcher(box_iou(gt, anchors));
    const auto matched_boxes = gt.index({m.clamp_min(0)});
    auto l = (m >= 0).to(anchors.scalar_type());
    l.masked_fill_(m == Matcher::kBetweenThresholds, -1.0);  // -1 (below low) stays 0
    idxs.push_back(m);
    labels.push_back(l);
    targets.push_back(box_coder.encode(matched_boxes, anchors));
  }
  RpnTargets out;
  out.matched_idxs = torch::cat(idxs);
  out.labels = torch::cat(labels);
  out.regression_targets = torch::cat(targets);
  return out;
}

RpnTargets RegionProposalNetworkImpl::training_targets(
    const RpnOutput& output, const std::vector<torch::Tensor>& gt_boxes) const {
  auto out = match(output, gt_boxes);
  set_sample(out, sampler(out.labels.split(output.anchors.size(0))));
  return out;
}

RpnTargets RegionProposalNetworkImpl::training_targets(
    const RpnOutput& output, const std::vector<torch::Tensor>& gt_boxes,
    const std::vector<SampledIndices>& sample) const {
  TORCH_CHECK(sample.size() == gt_boxes.size(), "RegionProposalNetwork: ", sample.size(),
              " fixed samples for ", gt_boxes.size(), " images");
  auto out = match(output, gt_boxes);
  const auto labels = out.labels.split(output.anchors.size(0));
  std::vector<SampledIndices> checked;
  for (size_t i = 0; i < sample.size(); ++i)
    checked.push_back(fixed_sample(labels[i], sample[i].positive, sample[i].negative));
  set_sample(out, checked);
  return out;
}

}  // namespace zoo
