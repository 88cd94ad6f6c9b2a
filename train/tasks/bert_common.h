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
#include "train/options.h"

namespace zoo {

// The "model" section of a BERT task: every BertConfig field but the vocabulary's (its size and
// padding id come from the tokenizer).
const OptionTable<BertConfig>& bert_model_table();

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
