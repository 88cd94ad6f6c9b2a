#pragma once
// What the BERT-based tasks (mlm, sts) share: the "model" config section and the choice of
// vocabulary (given file, the run's own, a checkpoint's, or learned from the training text).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/wordpiece.h"
#include "models/bert.h"
#include "train/config.h"

namespace zoo {

// {"hidden_size", "num_layers", "num_heads", "intermediate_size", "max_position",
//  "hidden_dropout", "attention_dropout", "initializer_range"} with BertConfig's defaults.
Json bert_model_defaults();
// Reads and validates `section` (e.g. "model"); vocab size and padding id are left to the caller.
BertConfig bert_config_from(const Config& cfg, const std::string& section);

// The tokenizer of a run: DIR/vocab.txt once the run has checkpoints of its own (resume, eval,
// export, predict); else `vocab_file` when not empty (copied to DIR/vocab.txt); else DIR/vocab.txt
// when the run already has one; else a vocabulary of `vocab_size` learned from
// `training_texts()` and saved as DIR/vocab.txt.
std::unique_ptr<WordPieceTokenizer> open_tokenizer(
    const std::string& vocab_file, const std::string& run_dir, int64_t vocab_size,
    int64_t min_frequency, const TokenizerOptions& options,
    const std::function<std::vector<std::string>()>& training_texts);

// meta.json's "tokenizer": every setting zoo::infer needs to rebuild the tokenizer exactly.
Json tokenizer_meta(const WordPieceTokenizer& tokenizer);

}  // namespace zoo
