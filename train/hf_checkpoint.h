#pragma once
// A BERT checkpoint directory as Hugging Face and sentence-transformers publish it, or as our
// exports write it:
//   config.json                    architecture (read_hf_bert_config)
//   model.safetensors | pytorch_model.bin | weights.pt   weights, first found wins
//   vocab.txt                      WordPiece vocabulary
//   tokenizer_config.json          do_lower_case, strip_accents, tokenize_chinese_chars,
//                                  model_max_length (optional)
//   modules.json                   sentence-transformers: Transformer -> Pooling [-> Normalize]
//   1_Pooling/config.json          pooling mode: mean, cls or max
//   sentence_bert_config.json      max_seq_length (and do_lower_case of the input)
// Anything we cannot represent is a UserError naming the file and key.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "data/wordpiece.h"
#include "models/bert.h"
#include "train/config.h"

namespace zoo {

struct PretrainedBert {
  std::string dir;           // where config.json, the weights and vocab.txt are
  BertConfig bert;
  std::string weights_path;
  std::string vocab_path;
  // tokenizer_config.json; a key the file does not give stays empty.
  std::optional<bool> lower_case;
  std::optional<int> strip_accents;  // -1 (null: follow lower_case), 0 or 1
  std::optional<bool> tokenize_chinese_chars;
  std::optional<int64_t> model_max_length;
  // sentence-transformers; empty pooling when modules.json is absent.
  std::string pooling;  // mean | cls | max
  bool normalize = false;
  std::optional<int64_t> max_seq_length;
};

// `need_weights` false: a directory of settings only (a run's init_checkpoint copy, below);
// weights_path stays empty.
PretrainedBert open_pretrained_bert(const std::string& dir, bool need_weights = true);

// The published checkpoint a run starts from. A new run reads `dir` and copies its settings (every
// *.json and vocab.txt, no weights) into RUN/init_checkpoint/; a run with checkpoints of its own
// (resume, eval, export, predict) reads that copy and needs no weights, so it keeps working when
// `dir` has moved. `load_weights` tells the caller whether to load p.weights_path.
PretrainedBert open_run_init_checkpoint(const std::string& dir, const std::string& run_dir, bool& load_weights);

// The tokenizer options of a run that starts from `p`: the checkpoint's settings win over the
// defaults; a config file or --set that gives `lower_case_key` a different value is an error.
TokenizerOptions pretrained_tokenizer_options(const PretrainedBert& p, const Config& cfg,
                                              const std::string& lower_case_key);

// The WordPiece tokenizer of a run that starts from `p`: its vocab.txt with the options above.
std::unique_ptr<WordPieceTokenizer> pretrained_tokenizer(const PretrainedBert& p, const Config& cfg,
                                                         const std::string& lower_case_key);

// The sequence length of a run that starts from `p`: the value a config file or --set gives `key`
// (an error above the checkpoint's limit: its positions and the tokenizer's model_max_length),
// else sentence-transformers' max_seq_length, else the code default; never above the limit.
int64_t pretrained_max_seq_len(const PretrainedBert& p, const Config& cfg, const std::string& key);

// Hands a model back: `dir` as transformers' from_pretrained reads it (config.json with
// `architecture`, model.safetensors with `state` in HF names, vocab.txt, tokenizer_config.json
// and special_tokens_map.json with the tokenizer's settings). With `st_pooling` not empty it is
// also a sentence-transformers directory (modules.json, 1_Pooling/config.json,
// sentence_bert_config.json; Normalize when `st_normalize`) that SentenceTransformer(dir) loads.
void write_pretrained_bert(const std::string& dir, const BertConfig& config, const std::string& architecture,
                           const std::vector<std::pair<std::string, torch::Tensor>>& state,
                           const WordPieceTokenizer& tokenizer, int64_t max_seq_len,
                           const std::string& st_pooling = "", bool st_normalize = false);

}  // namespace zoo
