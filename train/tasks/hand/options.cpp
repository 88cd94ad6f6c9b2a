#include "train/tasks/hand/options.h"

#include "train/trainer.h"

namespace zoo {

const OptionTable<HandDataOptions>& HandDataOptions::table() {
  using H = HandDataOptions;
  using A = AugmentOptions;
  static const auto t =
      OptionTable<H>()
          .add("data.train_file", &H::train_file,
               "a manifest .json, FreiHAND directory or .csv of hands; empty: generated hands")
          .add("data.val_file", &H::val_file, "validation hands, likewise; empty: generated hands")
          .add("data.val_from_index", &H::val_from_index,
               ">= 1: records [i, end) of val_file (else train_file) validate; a train_file that is that file "
               "trains on [0, i) only; -1: off")
          .add("data.csv_xyz_to_mm", &H::csv_xyz_to_mm, "unit of a CSV's coordinates (10 for centimetres)",
               greater_than(0.0))
          .add("data.image_size", &H::image_size, "side of the square network input in pixels",
               in_range(32, 2048, true))
          .add("data.synthetic_train_size", &H::synthetic_train_size, "distinct generated training hands",
               greater_than<int64_t>(0))
          .add("data.synthetic_val_size", &H::synthetic_val_size, "generated validation hands",
               greater_than<int64_t>(0))
          .add("data.synthetic_seed", &H::synthetic_seed,
               "identity of the generated sets; the validation set never overlaps the training set")
          .add("data.synthetic_mix_size", &H::synthetic_mix_size,
               "> 0 (with train_file): that many generated hands join the file's training records",
               at_least<int64_t>(0))
          .add("data.workers", &H::workers, "loader threads (0 = on the training thread)", in_range(0, 64, true))
          .add("data.skip_bad_images", &H::skip_bad_images,
               "an unreadable image is replaced (training) or left out (evaluation) with a warning")
          .add("data.augment.enabled", &H::augment, "augment training images (else resize only)")
          .add("data.augment.rotation_deg", &H::aug, &A::rotation_deg, "in-plane rotation uniform in [-r, r]",
               in_range(0.0, 180.0, true))
          .add("data.augment.scale_min", &H::aug, &A::scale_min, "zoom uniform in [scale_min, scale_max]",
               greater_than(0.0))
          .add("data.augment.scale_max", &H::aug, &A::scale_max, "(see scale_min)")
          .add("data.augment.translate", &H::aug, &A::translate, "shift per axis uniform in [-t, t] x image size",
               in_range(0.0, 1.0, true))
          .add("data.augment.center_on_hand", &H::aug, &A::center_on_hand,
               "centre the crop on the visible joints' box, not the image")
          .add("data.augment.hand_fill", &H::aug, &A::hand_fill,
               "> 0: zoom so that the joints' box spans this share of the image (needs center_on_hand)",
               in_range(0.0, 1.0, true))
          .add("data.augment.brightness", &H::aug, &A::brightness, "factor uniform in [1 - x, 1 + x]",
               in_range(0.0, 1.0))
          .add("data.augment.contrast", &H::aug, &A::contrast, "likewise, about the mean grey", in_range(0.0, 1.0))
          .add("data.augment.saturation", &H::aug, &A::saturation, "likewise, in HSV", in_range(0.0, 1.0))
          .add("data.augment.hue_deg", &H::aug, &A::hue_deg, "hue shift uniform in [-h, h]",
               in_range(0.0, 180.0, true))
          .add("eval.batch_size", &H::eval_batch_size, "evaluation images per batch", greater_than<int64_t>(0))
          .add("eval.mean_pose_samples", &H::mean_pose_samples,
               "training samples averaged into the mean-pose baseline and pose statistics", greater_than<int64_t>(0))
          .add("eval.train_samples", &H::eval_train_samples,
               "size of the \"train\" split of `zoo eval` (unaugmented)", greater_than<int64_t>(0))
          .add("eval.pictures", &H::pictures, "DIR/plots/examples_<split>.png and pck_<split>.png")
          .add("init.checkpoint", &H::init_checkpoint, "a run's checkpoints/best.pt (or last.pt): start from its weights")
          .rule([](const Config& cfg, const H& o) {
            cfg.require(o.aug.scale_max >= o.aug.scale_min, "data.augment.scale_min",
                        "and data.augment.scale_max need 0 < scale_min <= scale_max");
            cfg.require(o.aug.hand_fill == 0 || o.aug.center_on_hand, "data.augment.hand_fill",
                        "> 0 needs data.augment.center_on_hand = true");
            cfg.require(o.synthetic_mix_size == 0 || !o.train_file.empty(), "data.synthetic_mix_size",
                        "needs data.train_file (generated hands mixed into a data set on disk)");
          });
  return t;
}

Json hand_task_defaults() {
  Json j = trainer_defaults();
  j.update(HandDataOptions::table().to_json(), /*merge_objects=*/true);
  j["optim"]["lr"] = 1e-3;
  j["optim"]["weight_decay"] = 1e-4;
  j["schedule"]["name"] = "cosine";
  j["schedule"]["warmup_steps"] = 100;
  return j;
}

}  // namespace zoo
