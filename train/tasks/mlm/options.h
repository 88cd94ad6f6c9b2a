#pragma once
// Options of task "mlm", declared once in MlmOptions::table() (train/options.h).
#include <cstdint>
#include <string>
#include <vector>

#include "data/mlm_masking.h"
#include "losses/masked_lm_loss.h"
#include "models/bert.h"
#include "train/options.h"

namespace zoo {

struct MlmOptions {
  BertConfig model;  // "model"; vocab_size and pad_token_id come from the tokenizer
  // "data"
  std::vector<std::string> text_files;  // empty: the embedded generated corpus
  std::vector<std::string> extra_train_files;
  int64_t embedded_documents = 4000;
  double val_fraction = 0.1;
  int64_t max_seq_len = 128;
  std::string vocab_file;
  int64_t vocab_size = 8192;
  int64_t vocab_min_frequency = 2;
  bool lower_case = true;
  int64_t val_max_sequences = 1024;
  uint64_t eval_mask_seed = 1234;
  // "loss"
  MaskingOptions masking;
  MaskedLmLossOptions loss;
  // "eval": validation masks on its own settings, so that runs trained with another masking rate
  // or whole-word masking are scored on the same task and the same targets.
  int64_t eval_batch_size = 32;
  int64_t top_k = 5;
  double eval_mask_probability = MaskingOptions{}.mask_probability;
  bool eval_whole_word = MaskingOptions{}.whole_word;
  // "init"
  std::string hf_checkpoint;

  static const OptionTable<MlmOptions>& table();
};

// Every section with its default, the trainer's included (optim and schedule as mlm sets them).
Json mlm_task_defaults();
// One line per option, the trainer's included.
std::vector<OptionDoc> mlm_option_docs();

}  // namespace zoo
