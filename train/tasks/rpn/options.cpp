#include "train/tasks/rpn/options.h"

#include "train/trainer.h"

namespace zoo {

const OptionTable<RpnTaskOptions>& RpnTaskOptions::table() {
  using T = RpnTaskOptions;
  using R = RpnOptions;
  const auto positive = [](const std::vector<double>& v) {
    for (double x : v)
      if (!(x > 0)) return false;
    return !v.empty();
  };
  static const auto t =
      OptionTable<T>()
          .add("model.depth", &T::depth, "ResNet depth (BasicBlock)",
               Check<int64_t>{[](const int64_t& d) { return d == 18 || d == 34; }, "must be 18 or 34"})
          .add("model.base_width", &T::base_width, "channels of the stem and first stage, doubled per stage",
               in_range<int64_t>(4, 512, true))
          .add("model.anchor_sizes", &T::anchor_sizes, "anchor sides in pixels (one feature level)",
               Check<std::vector<double>>{positive, "must be a non-empty list of numbers > 0"})
          .add("model.aspect_ratios", &T::aspect_ratios, "anchor height / width ratios",
               Check<std::vector<double>>{positive, "must be a non-empty list of numbers > 0"})
          .add("model.fg_iou_thresh", &T::rpn, &R::fg_iou_thresh, "an anchor with IoU >= this is foreground")
          .add("model.bg_iou_thresh", &T::rpn, &R::bg_iou_thresh, "an anchor with IoU < this is background")
          .add("model.zero_iou_guard", &T::rpn, &R::zero_iou_guard,
               "a box's best anchor is positive only if their IoU > 0 (false: torchvision exactly)")
          .add("model.batch_size_per_image", &T::rpn, &R::batch_size_per_image, "anchors sampled per image",
               greater_than<int64_t>(0))
          .add("model.positive_fraction", &T::rpn, &R::positive_fraction, "largest share of positives in the sample",
               in_open_range(0.0, 1.0, true))
          .add("model.pre_nms_top_n_train", &T::rpn, &R::pre_nms_top_n_train, "proposals kept before NMS, training",
               greater_than<int64_t>(0))
          .add("model.pre_nms_top_n_test", &T::rpn, &R::pre_nms_top_n_test, "likewise, evaluation and export",
               greater_than<int64_t>(0))
          .add("model.post_nms_top_n_train", &T::rpn, &R::post_nms_top_n_train, "proposals kept after NMS, training",
               greater_than<int64_t>(0))
          .add("model.post_nms_top_n_test", &T::rpn, &R::post_nms_top_n_test, "likewise, evaluation and export",
               greater_than<int64_t>(0))
          .add("model.nms_thresh", &T::rpn, &R::nms_thresh, "NMS IoU threshold", in_open_range(0.0, 1.0, true))
          .add("model.min_size", &T::rpn, &R::min_size, "proposals with a side below this (pixels) are dropped",
               at_least(0.0))
          .add("data.train_file", &T::train_file, "COCO .json, VOC directory, YOLO directory or .csv; empty: generated shapes")
          .add("data.val_file", &T::val_file, "validation images, likewise")
          .add("data.format", &T::format, "coco, voc, yolo, csv, or auto (by the path)",
               one_of({"auto", "coco", "voc", "yolo", "csv"}))
          .add("data.val_from_index", &T::val_from_index,
               ">= 1: images [i, end) of val_file (else train_file) validate; -1: off")
          .add("data.bad_boxes", &T::bad_boxes, "out-of-image and degenerate boxes: clip, drop or reject",
               one_of({"clip", "drop", "reject"}))
          .add("data.max_boxes_per_image", &T::max_boxes_per_image, "more boxes in one image is an error naming it",
               in_range<int64_t>(1, 100000, true))
          .add("data.min_size", &T::min_size, "resize: the short side (torchvision's transform)")
          .add("data.max_size", &T::max_size, "resize: the long side at most")
          .add("data.hflip", &T::hflip, "training horizontal-flip probability", in_range(0.0, 1.0, true))
          .add("data.synthetic_train_size", &T::synthetic_train_size, "generated training images",
               greater_than<int64_t>(0))
          .add("data.synthetic_val_size", &T::synthetic_val_size, "generated validation images",
               greater_than<int64_t>(0))
          .add("data.synthetic_image_size", &T::synthetic_image_size, "side of the generated images",
               in_range(64, 2048, true))
          .add("data.synthetic_seed", &T::synthetic_seed, "identity of the generated sets")
          .add("eval.batch_size", &T::eval_batch_size, "evaluation images per batch", greater_than<int64_t>(0))
          .add("eval.pictures", &T::pictures, "DIR/plots/proposals_<split>.png")
          .add("eval.untrained_baseline", &T::untrained_baseline,
               "also rank anchors with the untrained network (the run's initial weights) as a baseline")
          .add("init.torchvision_weights", &T::torchvision_weights,
               "a torchvision resnet18/34 state dict (.pth or .safetensors) for the backbone; layer4 and fc ignored "
               "(model.base_width 64)")
          .rule([](const Config& cfg, const T& o) {
            cfg.require(o.rpn.bg_iou_thresh >= 0 && o.rpn.bg_iou_thresh <= o.rpn.fg_iou_thresh &&
                            o.rpn.fg_iou_thresh <= 1,
                        "model.fg_iou_thresh", "and model.bg_iou_thresh need 0 <= bg <= fg <= 1");
            cfg.require(o.min_size >= 32 && o.max_size >= o.min_size, "data.min_size",
                        "and data.max_size need 32 <= min_size <= max_size");
          });
  return t;
}

Json rpn_task_defaults() {
  Json j = task_defaults<RpnTaskOptions>("rpn");
  j["optim"]["name"] = "sgd";
  j["optim"]["lr"] = 0.01;
  j["optim"]["momentum"] = 0.9;
  j["optim"]["weight_decay"] = 1e-4;
  j["schedule"]["name"] = "cosine";
  j["schedule"]["warmup_steps"] = 100;
  j["train"]["batch_size"] = 2;
  return j;
}

std::vector<OptionDoc> rpn_option_docs() { return task_option_docs<RpnTaskOptions>(); }

}  // namespace zoo
