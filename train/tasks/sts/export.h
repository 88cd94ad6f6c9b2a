#pragma once
// The export of an sts run (README "Run directory"): model.pt (TorchScript, the whole scorer),
// weights.pt and weights.safetensors, vocab.txt, meta.json (inputs, layout, pooling, match
// classes, score range), and hf/ for post-LN encoders (transformers BertModel; for a bi-encoder
// also a sentence-transformers model).
#include <cstdint>
#include <string>
#include <vector>

#include "data/wordpiece.h"
#include "models/sts.h"

namespace zoo {

// `model` must be in eval mode; `options` as the run resolved them (a checkpoint's pooling).
void write_sts_export(const std::string& dir, StsModelImpl& model, const StsModelOptions& options,
                      const WordPieceTokenizer& tokenizer, const std::vector<int64_t>& match_class,
                      int64_t max_seq_len);

}  // namespace zoo
