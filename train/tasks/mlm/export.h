#pragma once
// The export of an mlm run (README "Run directory"): model.pt (TorchScript), weights.pt and
// weights.safetensors in Hugging Face's names, config.json, vocab.txt, meta.json, and hf/ (a
// transformers BertForMaskedLM directory) for post-LN models.
#include <cstdint>
#include <string>

#include "data/wordpiece.h"
#include "models/bert.h"

namespace zoo {

// `model` must be in eval mode.
void write_mlm_export(const std::string& dir, BertForMaskedLMImpl& model, const BertConfig& config,
                      const WordPieceTokenizer& tokenizer, int64_t max_seq_len);

}  // namespace zoo
