#include "train/tasks/heatmap/options.h"

#include "train/tasks/hand/options.h"
#include "train/trainer.h"

namespace zoo {

const OptionTable<HeatmapOptions>& HeatmapOptions::table() {
  using H = HeatmapOptions;
  using M = HeatmapKeypointsOptions;
  static const auto t =
      OptionTable<H>()
          .add("model.head", &H::model, &M::head,
               "soft_argmax (spatial softmax, expected coordinates) or per_axis (softmax per axis, cross-entropy)",
               one_of({"soft_argmax", "per_axis"}))
          .add("model.encoder_channels", &H::model, &M::net, &HeatmapNetOptions::encoder_channels,
               "widths of the stride-2 encoder stages (1 to 6)")
          .add("model.decoder_channels", &H::model, &M::net, &HeatmapNetOptions::decoder_channels,
               "widths of the x2 upsampling decoder stages (at most as many)")
          .add("model.decoder", &H::model, &M::net, &HeatmapNetOptions::decoder,
               "deconv (transposed convolutions) or upsample (nearest x2, then a convolution)",
               one_of({"deconv", "upsample"}))
          .add("model.beta", &H::model, &M::soft_argmax, &SoftArgmaxOptions::beta,
               "soft-argmax inverse temperature: softmax(beta * logits)", greater_than(0.0))
          .add("model.learnable_beta", &H::model, &M::soft_argmax, &SoftArgmaxOptions::learnable_beta,
               "learn beta (as log_beta)")
          .add("loss.kind", &H::coord_loss, &KeypointLossOptions::kind,
               "soft_argmax's coordinate loss: euclidean, l1, mse or smooth_l1",
               one_of({"euclidean", "l1", "mse", "smooth_l1"}))
          .add("loss.smooth_l1_beta", &H::coord_loss, &KeypointLossOptions::smooth_l1_beta, "smooth_l1's beta")
          .add("loss.js_weight", &H::js_weight, "weight of the DSNT Jensen-Shannon heatmap regulariser (0 = off)",
               at_least(0.0))
          .add("loss.js_sigma", &H::js_sigma, "its Gaussian's sigma, in heatmap cells", greater_than(0.0))
          .rule([](const Config& cfg, const H& o) {
            const auto& enc = o.model.net.encoder_channels;
            const auto& dec = o.model.net.decoder_channels;
            cfg.require(!enc.empty() && enc.size() <= 6, "model.encoder_channels", "must list 1 to 6 stage widths");
            cfg.require(dec.size() <= enc.size(), "model.decoder_channels",
                        "must not have more stages than model.encoder_channels");
            for (const auto* list : {&enc, &dec})
              for (const int64_t c : *list)
                cfg.require(c > 0 && c <= 4096, "model.encoder_channels", "widths must be in [1, 4096]");
            cfg.require(o.js_weight == 0 || o.model.head == "soft_argmax", "loss.js_weight",
                        "applies to model.head soft_argmax only");
          });
  return t;
}

Json heatmap_task_defaults() {
  Json j = hand_task_defaults();
  j.update(HeatmapOptions::table().to_json(), /*merge_objects=*/true);
  j["task"] = "heatmap";
  return j;
}

std::vector<OptionDoc> heatmap_option_docs() { return task_option_docs<HeatmapOptions, HandDataOptions>(); }

}  // namespace zoo
