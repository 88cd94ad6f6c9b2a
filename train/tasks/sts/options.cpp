#include "train/tasks/sts/options.h"

#include <cmath>

#include "train/tasks/bert_common.h"
#include "train/trainer.h"

namespace zoo {

const OptionTable<StsOptions>& StsOptions::table() {
  using S = StsOptions;
  using M = StsModelOptions;
  static const auto t =
      OptionTable<S>()
          .include(bert_model_table(), &S::model)
          .add("model.architecture", &S::sts, &M::architecture,
               "cross: one encoder pass over both sentences; bi: each sentence embedded alone",
               one_of({"cross", "bi"}))
          .add("model.head", &S::sts, &M::head,
               "distribution (sparse target over the integer scores, KL), regression (MSE) or cosine (bi only)",
               one_of({"distribution", "regression", "cosine"}))
          .add("model.pooling", &S::sts, &M::pooling,
               "bi: mean, cls or max over the real tokens (a sentence-transformers checkpoint sets it)",
               one_of({"mean", "cls", "max"}))
          .add("model.normalize", &S::sts, &M::normalize, "bi: L2-normalise the embeddings (likewise)")
          .add("model.bound_output", &S::sts, &M::bound_output, "regression: min + (max - min) * sigmoid(x)")
          .add("model.exact_match", &S::sts, &M::exact_match,
               "cross: embed whether each token also occurs in the other sentence")
          .add("model.match_idf_buckets", &S::sts, &M::match_idf_buckets,
               "cross with exact_match: that many match classes by the token's IDF; 0 = one class",
               in_range<int64_t>(0, 64, true))
          .add("model.classifier_dropout", &S::sts, &M::classifier_dropout, "dropout before the head")
          .add("data.train_file", &S::train_file, "training pairs; empty (with val_file): the generated pair set")
          .add("data.val_file", &S::val_file, "validation pairs")
          .add("data.format", &S::format, "stsb, csv, sick, jsonl, or auto (by the file name)",
               one_of({"auto", "stsb", "csv", "sick", "jsonl"}))
          .add("data.sick_train_split", &S::sick_train_split, "sick: the SemEval_set of training pairs")
          .add("data.sick_val_split", &S::sick_val_split, "sick: the SemEval_set of validation pairs")
          .add("data.min_score", &S::sts, &M::min_score, "lowest score of the scale")
          .add("data.max_score", &S::sts, &M::max_score, "highest score of the scale")
          .add("data.synthetic_pairs", &S::synthetic_pairs, "generated training pairs", at_least<int64_t>(10))
          .add("data.max_seq_len", &S::max_seq_len, "tokens per input, special tokens included", at_least<int64_t>(8))
          .add("data.swap_pairs", &S::swap_pairs,
               "train on (b, a) for a random half of the pairs: the score is symmetric")
          .add("data.vocab_file", &S::vocab_file, "a WordPiece vocab.txt; empty: learn one from the training pairs")
          .add("data.vocab_size", &S::vocab_size, "size of a learned vocabulary", at_least<int64_t>(16))
          .add("data.vocab_min_frequency", &S::vocab_min_frequency, "fewest occurrences of a learned piece")
          .add("data.lower_case", &S::lower_case, "lower-case (and strip accents) before WordPiece")
          .add("eval.batch_size", &S::eval_batch_size, "validation pairs per batch", greater_than<int64_t>(0))
          .add("init.mlm_run", &S::mlm_run,
               "an mlm run directory whose encoder, vocab.txt and dimensions start this run (pre-train, then "
               "fine-tune)")
          .add("init.hf_checkpoint", &S::hf_checkpoint,
               "a BERT directory as Hugging Face or sentence-transformers publish it, or an export")
          .rule([](const Config& cfg, const S& o) {
            cfg.require(o.sts.head != "cosine" || o.sts.architecture == "bi", "model.head",
                        "cosine needs model.architecture=bi");
            const double span = o.sts.max_score - o.sts.min_score;
            cfg.require(span > 0, "data.max_score", "must exceed data.min_score");
            cfg.require(o.sts.head != "distribution" || std::floor(span) == span, "data.max_score",
                        "minus data.min_score must be a whole number for the distribution head");
            cfg.require(o.train_file.empty() == o.val_file.empty(), "data.val_file",
                        "must be given together with data.train_file");
            cfg.require(o.mlm_run.empty() || o.hf_checkpoint.empty(), "init.mlm_run",
                        "and init.hf_checkpoint exclude each other");
          });
  return t;
}

Json sts_task_defaults() {
  Json j = task_defaults<StsOptions>("sts");
  j["optim"]["lr"] = 1e-4;
  j["optim"]["weight_decay"] = 0.01;
  j["schedule"]["name"] = "linear";
  j["schedule"]["warmup_steps"] = 100;
  return j;
}

std::vector<OptionDoc> sts_option_docs() { return task_option_docs<StsOptions>(); }

}  // namespace zoo
