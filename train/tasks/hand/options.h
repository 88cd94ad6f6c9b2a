#pragma once
// The options tasks "keypoints" and "heatmap" share (hand images, augmentation, evaluation, an
// initial checkpoint), declared once in HandDataOptions::table() (train/options.h).
#include <cstdint>
#include <string>

#include "data/hand_augment.h"
#include "train/options.h"

namespace zoo {

struct HandDataOptions {
  // "data"
  std::string train_file;      // empty: synthetic hands; else a manifest .json, FreiHAND dir or .csv
  std::string val_file;        // empty: synthetic hands (or the tail of train_file: val_from_index)
  int64_t val_from_index = -1;
  double csv_xyz_to_mm = 1.0;
  int image_size = 128;
  int64_t synthetic_train_size = 20000;
  int64_t synthetic_val_size = 256;
  uint64_t synthetic_seed = 0;
  int64_t synthetic_mix_size = 0;
  int workers = 2;
  bool skip_bad_images = true;
  bool augment = true;   // "data.augment.enabled"
  AugmentOptions aug;    // "data.augment"; its output_size is the image size
  // "eval"
  int64_t eval_batch_size = 64;
  int64_t mean_pose_samples = 512;
  int64_t eval_train_samples = 256;
  bool pictures = true;
  // "init"
  std::string init_checkpoint;

  static const OptionTable<HandDataOptions>& table();
};

// The trainer's sections as both hand tasks set them, with HandDataOptions'.
Json hand_task_defaults();

}  // namespace zoo
