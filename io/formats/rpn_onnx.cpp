#include "io/formats/rpn_onnx.h"

#include "io/formats/onnx_graph.h"
#include "io/formats/resnet_onnx.h"

namespace zoo {
namespace {

using Ints = std::vector<int64_t>;

// Anchors [h * w * A, 4] of the feature grid, as rpn_grid: location-major (row, column), then
// the level's cell anchors; the stride is the padded image's size // the feature map's.
std::string grid_anchors(OnnxGraph& g, const std::string& images, const std::string& features,
                         const torch::Tensor& cell) {
  const std::string image_shape = g.node("Shape", {images}), feature_shape = g.node("Shape", {features});
  const auto dim = [&](const std::string& shape, int64_t i) { return g.node("Gather", {shape, g.index(i)}); };
  const std::string gh = dim(feature_shape, 2), gw = dim(feature_shape, 3);
  const auto shifts = [&](const std::string& n, const std::string& size) {  // arange(n) * (size // n)
    return g.node("Mul", {g.node("Range", {g.index(0), n, g.index(1)}), g.node("Div", {size, n})});
  };
  const std::string grid = g.node("Concat", {g.node("Unsqueeze", {gh, g.ints({0})}), g.node("Unsqueeze", {gw, g.ints({0})})},
                                  {{"axis", int64_t{0}}});
  const auto flat = [&](const std::string& t) { return g.node("Reshape", {g.node("Expand", {t, grid}), g.ints({-1, 1})}); };
  const std::string xs = flat(g.node("Unsqueeze", {shifts(gw, dim(image_shape, 3)), g.ints({0})}));
  const std::string ys = flat(g.node("Unsqueeze", {shifts(gh, dim(image_shape, 2)), g.ints({1})}));
  const std::string xyxy =
      g.node("Cast", {g.node("Concat", {xs, ys, xs, ys}, {{"axis", int64_t{1}}})}, {{"to", int64_t{1}}});  // FLOAT
  return g.node("Reshape", {g.node("Add", {g.node("Unsqueeze", {xyxy, g.ints({1})}),
                                           g.initializer("rpn.cell_anchors", cell.unsqueeze(0))}),
                            g.ints({-1, 4})});
}

// rpn_decode: deltas and anchors [B, K, 4] -> boxes (x1, y1, x2, y2), each [B, K, 1].
std::vector<std::string> decode(OnnxGraph& g, const std::string& deltas, const std::string& anchors) {
  const BoxCoderOptions coder;  // the RPN's box coder
  const auto split = [&](const std::string& t) { return g.node("Split", {t}, 4, {{"axis", int64_t{-1}}}); };
  const auto a = split(anchors), d = split(deltas);
  const auto scaled = [&](int i) { return g.node("Div", {d[i], g.scalar(static_cast<float>(coder.weights[i]))}); };
  const auto clipped = [&](int i) {
    return g.node("Min", {scaled(i), g.scalar(static_cast<float>(coder.bbox_xform_clip))});
  };
  const std::string widths = g.node("Sub", {a[2], a[0]}), heights = g.node("Sub", {a[3], a[1]});
  const std::string half = g.scalar(0.5f);
  const std::string ctr_x = g.node("Add", {a[0], g.node("Mul", {half, widths})});
  const std::string ctr_y = g.node("Add", {a[1], g.node("Mul", {half, heights})});
  const std::string px = g.node("Add", {g.node("Mul", {scaled(0), widths}), ctr_x});
  const std::string py = g.node("Add", {g.node("Mul", {scaled(1), heights}), ctr_y});
  const std::string hw = g.node("Mul", {half, g.node("Mul", {g.node("Exp", {clipped(2)}), widths})});
  const std::string hh = g.node("Mul", {half, g.node("Mul", {g.node("Exp", {clipped(3)}), heights})});
  return {g.node("Sub", {px, hw}), g.node("Sub", {py, hh}), g.node("Add", {px, hw}), g.node("Add", {py, hh})};
}

}  // namespace

void export_rpn_onnx(ResNetImpl& backbone, RegionProposalNetworkImpl& rpn, const std::string& path) {
  const RpnOptions& o = rpn.options();
  TORCH_CHECK(rpn.anchor_generator.num_levels() == 1, "export_rpn_onnx: one feature level only");
  OnnxGraph g("ZooRegionProposals");
  g.input("images", torch::kFloat, {"batch", 3, "height", "width"});
  g.input("image_sizes", torch::kLong, {"batch", 2});
  std::string t = resnet_onnx(g, backbone, "backbone.", "images");
  RPNHeadImpl& head = *rpn.head;
  for (size_t i = 0; i < head.conv->size(); ++i) {
    auto& conv = *head.conv[i]->as<torch::nn::SequentialImpl>()->ptr(0)->as<torch::nn::Conv2dImpl>();
    t = g.node("Relu", {onnx_conv(g, t, "rpn.head.conv." + std::to_string(i) + ".0", conv.weight, conv.bias, 1, 1)});
  }
  const std::string logits =
      onnx_conv(g, t, "rpn.head.cls_logits", head.cls_logits->weight, head.cls_logits->bias, 1, 0);
  const std::string deltas = onnx_conv(g, t, "rpn.head.bbox_pred", head.bbox_pred->weight, head.bbox_pred->bias, 1, 0);
  const int64_t a = head.cls_logits->weight.size(0);
  // Flattened as concat_box_prediction_layers: location-major, then anchor.
  const std::string objectness =
      g.node("Reshape", {g.node("Transpose", {logits}, {{"perm", Ints{0, 2, 3, 1}}}), g.ints({0, -1})});
  const std::string split_shape =
      g.node("Concat", {g.ints({0, a, 4}), g.node("Shape", {deltas}, {{"start", int64_t{2}}})}, {{"axis", int64_t{0}}});
  const std::string flat_deltas = g.node(
      "Reshape", {g.node("Transpose", {g.node("Reshape", {deltas, split_shape})}, {{"perm", Ints{0, 3, 4, 1, 2}}}),
                  g.ints({0, -1, 4})});
  const std::string anchors = grid_anchors(g, "images", logits, rpn.anchor_generator.cell_anchors(0));

  // Top min(pre_nms_top_n, T) logits per image, then sigmoid and decode.
  const std::string k = g.node("Min", {g.ints({o.pre_nms_top_n_test}), g.node("Shape", {objectness}, {{"start", int64_t{1}}})});
  const auto top = g.node("TopK", {objectness, k}, 2, {{"axis", int64_t{1}}});
  const std::string scores = g.node("Sigmoid", {top[0]});
  const std::string top_deltas =
      g.node("GatherND", {flat_deltas, g.node("Unsqueeze", {top[1], g.ints({-1})})}, {{"batch_dims", int64_t{1}}});
  const auto box = decode(g, top_deltas, g.node("Gather", {anchors, top[1]}, {{"axis", int64_t{0}}}));
  // Clip to each image's own size: x to [0, width], y to [0, height].
  const std::string sizes = g.node("Cast", {g.node("Unsqueeze", {"image_sizes", g.ints({1})})}, {{"to", int64_t{1}}});
  const auto size_split = g.node("Split", {sizes}, 2, {{"axis", int64_t{-1}}});  // [B, 1, 1] each
  const auto clip = [&](const std::string& v, const std::string& hi) {
    return g.node("Max", {g.node("Min", {v, hi}), g.scalar(0.0f)});
  };
  const std::string x1 = clip(box[0], size_split[1]), y1 = clip(box[1], size_split[0]);
  const std::string x2 = clip(box[2], size_split[1]), y2 = clip(box[3], size_split[0]);
  const std::string boxes = g.node("Concat", {x1, y1, x2, y2}, {{"axis", int64_t{-1}}});  // [B, K, 4]
  // min_size and score_thresh as a mask: a dropped box gets score -1, below NMS's threshold of
  // -0.5 (sigmoid scores are >= 0), so it neither survives nor suppresses.
  const auto at_least = [&](const std::string& v, double bound) {
    return g.node("GreaterOrEqual", {v, g.scalar(static_cast<float>(bound))});
  };
  const std::string valid = g.node(
      "And", {g.node("And", {g.node("Squeeze", {at_least(g.node("Sub", {x2, x1}), o.min_size), g.ints({-1})}),
                             g.node("Squeeze", {at_least(g.node("Sub", {y2, y1}), o.min_size), g.ints({-1})})}),
              at_least(scores, o.score_thresh)});
  const std::string masked = g.node("Where", {valid, scores, g.scalar(-1.0f)});
  // NonMaxSuppression with boxes as (x1, y1, x2, y2): IoU is symmetric in x and y, so the
  // corner order ONNX names (y1, x1, y2, x2) gives the same overlaps. Per image the selected
  // boxes come by decreasing score, at most post_nms_top_n.
  const std::string selected = g.node(
      "NonMaxSuppression", {boxes, g.node("Unsqueeze", {masked, g.ints({1})}), g.ints({o.post_nms_top_n_test}),
                            g.initializer("rpn.nms_thresh", torch::tensor({static_cast<float>(o.nms_thresh)})),
                            g.initializer("rpn.valid_score", torch::tensor({-0.5f}))});
  const auto column = [&](int64_t i) { return g.node("Gather", {selected, g.index(i)}, {{"axis", int64_t{1}}}); };
  const std::string image = column(0);
  const std::string image_box = g.node("Concat", {g.node("Unsqueeze", {image, g.ints({1})}),
                                                  g.node("Unsqueeze", {column(2), g.ints({1})})},
                                       {{"axis", int64_t{1}}});  // [S, 2]: (image, box)
  // Packing: selections are grouped by image, so a selection's row within its image is its
  // index minus the number of selections of the images before it.
  const std::string batch = g.node("Gather", {g.node("Shape", {"images"}), g.index(0)});
  const std::string per_image = g.node(
      "Cast", {g.node("Equal", {g.node("Unsqueeze", {image, g.ints({1})}), g.node("Range", {g.index(0), batch, g.index(1)})})},
      {{"to", int64_t{7}}});  // 7 = INT64; [S, B]
  const std::string counts = g.node("ReduceSum", {per_image, g.ints({0})}, {{"keepdims", int64_t{0}}});
  const std::string starts = g.node("CumSum", {counts, g.index(0)}, {{"exclusive", int64_t{1}}});
  const std::string num_selected = g.node("Gather", {g.node("Shape", {selected}), g.index(0)});
  const std::string row = g.node("Sub", {g.node("Range", {g.index(0), num_selected, g.index(1)}),
                                         g.node("Gather", {starts, image})});
  const std::string slot = g.node("Concat", {g.node("Unsqueeze", {image, g.ints({1})}), g.node("Unsqueeze", {row, g.ints({1})})},
                                  {{"axis", int64_t{1}}});  // [S, 2]: (image, row)
  const std::string b1 = g.node("Unsqueeze", {batch, g.ints({0})});
  const auto zeros = [&](const Ints& tail) {
    return g.node("Expand", {g.scalar(0.0f), g.node("Concat", {b1, g.ints(tail)}, {{"axis", int64_t{0}}})});
  };
  const int64_t n = o.post_nms_top_n_test;
  const std::string out_boxes = g.node("ScatterND", {zeros({n, 4}), slot, g.node("GatherND", {boxes, image_box})});
  const std::string out_scores = g.node("ScatterND", {zeros({n}), slot, g.node("GatherND", {scores, image_box})});
  g.output("boxes", out_boxes, torch::kFloat, {"batch", n, 4});
  g.output("scores", out_scores, torch::kFloat, {"batch", n});
  g.output("counts", counts, torch::kLong, {"batch"});
  g.save(path, "zoo region proposals: (images [batch, 3, height, width], image_sizes [batch, 2]) -> (boxes [batch, " +
                   std::to_string(n) + ", 4], scores [batch, " + std::to_string(n) + "], counts [batch])");
}

}  // namespace zoo
