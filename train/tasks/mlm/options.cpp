#include "train/tasks/mlm/options.h"

#include "train/tasks/bert_common.h"
#include "train/trainer.h"

namespace zoo {

const OptionTable<MlmOptions>& MlmOptions::table() {
  using M = MlmOptions;
  using Mask = MaskingOptions;
  static const auto t =
      OptionTable<M>()
          .include(bert_model_table(), &M::model)
          .add("data.text_files", &M::text_files,
               "plain-text files (one paragraph per line, WikiText headings); empty: the embedded generated corpus")
          .add("data.extra_train_files", &M::extra_train_files,
               "more text for training only (none held out): validation stays on text_files' held-out documents")
          .add("data.embedded_documents", &M::embedded_documents, "documents of the generated corpus",
               at_least<int64_t>(10))
          .add("data.val_fraction", &M::val_fraction, "every (1 / val_fraction)-th document is held out",
               in_open_range(0.0, 1.0))
          .add("data.max_seq_len", &M::max_seq_len, "tokens per sequence, [CLS] and [SEP] included",
               at_least<int64_t>(8))
          .add("data.vocab_file", &M::vocab_file, "a WordPiece vocab.txt; empty: learn one from the training text")
          .add("data.vocab_size", &M::vocab_size, "size of a learned vocabulary", at_least<int64_t>(16))
          .add("data.vocab_min_frequency", &M::vocab_min_frequency, "fewest occurrences of a learned piece")
          .add("data.lower_case", &M::lower_case, "lower-case (and strip accents) before WordPiece")
          .add("data.val_max_sequences", &M::val_max_sequences, "validation sequences scored",
               greater_than<int64_t>(0))
          .add("data.eval_mask_seed", &M::eval_mask_seed,
               "seed of the fixed validation masks (not train.seed: runs compare on identical targets)")
          .add("loss.mask_probability", &M::masking, &Mask::mask_probability, "share of tokens selected for prediction",
               in_open_range(0.0, 1.0, true))
          .add("loss.mask_token_ratio", &M::masking, &Mask::mask_token_ratio, "of the selected: replaced by [MASK]")
          .add("loss.random_token_ratio", &M::masking, &Mask::random_token_ratio,
               "of the selected: replaced by a random token (the rest stay unchanged)")
          .add("loss.whole_word", &M::masking, &Mask::whole_word, "select whole words (## pieces with their word)")
          .add("loss.label_smoothing", &M::loss, &MaskedLmLossOptions::label_smoothing, "cross-entropy label smoothing",
               in_range(0.0, 1.0))
          .add("eval.batch_size", &M::eval_batch_size, "validation sequences per batch", greater_than<int64_t>(0))
          .add("eval.top_k", &M::top_k, "predictions `zoo predict` shows per [MASK]", greater_than<int64_t>(0))
          .add("eval.mask_probability", &M::eval_mask_probability, "validation masking rate",
               in_open_range(0.0, 1.0, true))
          .add("eval.whole_word", &M::eval_whole_word, "whole-word validation masks")
          .add("init.hf_checkpoint", &M::hf_checkpoint,
               "start from a published BERT directory (Hugging Face, sentence-transformers) or an export; "
               "without an MLM head in it, the head starts fresh")
          .rule([](const Config& cfg, const M& o) {
            cfg.require(o.masking.mask_token_ratio >= 0 && o.masking.random_token_ratio >= 0 &&
                            o.masking.mask_token_ratio + o.masking.random_token_ratio <= 1,
                        "loss.mask_token_ratio", "and loss.random_token_ratio must be >= 0 with sum <= 1");
          });
  return t;
}

Json mlm_task_defaults() {
  Json j = task_defaults<MlmOptions>("mlm");
  j["optim"]["lr"] = 5e-4;
  j["optim"]["weight_decay"] = 0.01;
  j["schedule"]["name"] = "linear";
  j["schedule"]["warmup_steps"] = 100;
  return j;
}

std::vector<OptionDoc> mlm_option_docs() { return task_option_docs<MlmOptions>(); }

}  // namespace zoo
