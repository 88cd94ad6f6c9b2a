#pragma once
// Options of task "sts", declared once in StsOptions::table() (train/options.h).
#include <cstdint>
#include <string>
#include <vector>

#include "models/bert.h"
#include "models/sts.h"
#include "train/options.h"

namespace zoo {

struct StsOptions {
  BertConfig model;    // "model": the encoder; vocab_size and pad_token_id come from the tokenizer
  StsModelOptions sts;  // "model": architecture and head; "data": the score range
  // "data"
  std::string train_file, val_file;  // both empty: the generated pair set
  std::string format = "auto";
  std::string sick_train_split, sick_val_split;
  int64_t synthetic_pairs = 4000;
  int64_t max_seq_len = 128;
  bool swap_pairs = false;
  std::string vocab_file;
  int64_t vocab_size = 8192;
  int64_t vocab_min_frequency = 2;
  bool lower_case = true;
  // "eval"
  int64_t eval_batch_size = 64;
  // "init"
  std::string mlm_run, hf_checkpoint;

  static const OptionTable<StsOptions>& table();
};

// Every section with its default, the trainer's included (optim and schedule as sts sets them).
Json sts_task_defaults();
// One line per option, the trainer's included.
std::vector<OptionDoc> sts_option_docs();

}  // namespace zoo
