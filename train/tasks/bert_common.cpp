#include "train/tasks/bert_common.h"

#include <filesystem>

#include "data/vocab_trainer.h"
#include "train/trainer.h"

namespace zoo {

const OptionTable<BertConfig>& bert_model_table() {
  using B = BertConfig;
  static const auto t =
      OptionTable<B>()
          .add("model.hidden_size", &B::hidden_size, "width of the encoder", greater_than<int64_t>(0))
          .add("model.num_layers", &B::num_layers, "transformer layers", greater_than<int64_t>(0))
          .add("model.num_heads", &B::num_heads, "attention heads (must divide hidden_size)", greater_than<int64_t>(0))
          .add("model.intermediate_size", &B::intermediate_size, "width of the feed-forward layer",
               greater_than<int64_t>(0))
          .add("model.max_position", &B::max_position, "learned positions (longest input)", greater_than<int64_t>(0))
          .add("model.hidden_dropout", &B::hidden_dropout, "dropout on embeddings and sublayer outputs",
               in_range(0.0, 1.0))
          .add("model.attention_dropout", &B::attention_dropout, "dropout on attention probabilities",
               in_range(0.0, 1.0))
          .add("model.initializer_range", &B::initializer_range, "std of the initial weights (BERT's 0.02)",
               greater_than(0.0))
          // Absent from the config.json of runs made before the option existed: those are post-LN.
          .add("model.norm_first", &B::norm_first,
               "pre-LN layers (Xiong et al. 2020) with a final LayerNorm; false: BERT's post-LN")
          .rule([](const Config& cfg, const B& b) {
            cfg.require(b.hidden_size % b.num_heads == 0, "model.hidden_size",
                        "must be a positive multiple of model.num_heads");
          });
  return t;
}

std::unique_ptr<WordPieceTokenizer> open_tokenizer(
    const std::string& vocab_file, const std::string& run_dir, int64_t vocab_size,
    int64_t min_frequency, const TokenizerOptions& options,
    const std::function<std::vector<std::string>()>& training_texts) {
  const std::string run_vocab = run_dir + "/vocab.txt";
  const bool has_run_vocab = !run_dir.empty() && std::filesystem::exists(run_vocab);
  // A given file is copied into the run when it starts; the copy serves the run from then on.
  if (!vocab_file.empty() && !(has_run_vocab && run_has_checkpoint(run_dir))) {
    Vocab vocab = Vocab::load(vocab_file);
    if (!run_dir.empty()) {
      std::filesystem::create_directories(run_dir);
      vocab.save(run_vocab);
    }
    return std::make_unique<WordPieceTokenizer>(std::move(vocab), options);
  }
  if (has_run_vocab) return std::make_unique<WordPieceTokenizer>(Vocab::load(run_vocab), options);
  VocabTrainerOptions vt;
  vt.vocab_size = vocab_size;
  vt.min_frequency = min_frequency;
  vt.tokenizer = options;
  Vocab vocab = train_wordpiece_vocab(training_texts(), vt);
  if (!run_dir.empty()) {
    std::filesystem::create_directories(run_dir);
    vocab.save(run_vocab);
  }
  return std::make_unique<WordPieceTokenizer>(std::move(vocab), options);
}

Json tokenizer_meta(const WordPieceTokenizer& tokenizer) {
  const TokenizerOptions& o = tokenizer.options();
  return {{"type", "wordpiece"},
          {"lower_case", o.lower_case},
          {"strip_accents", o.strip_accents},  // -1: as lower_case (Google BERT); 0/1: off/on
          {"tokenize_chinese_chars", o.tokenize_chinese_chars},
          {"max_chars_per_word", o.max_chars_per_word}};
}

}  // namespace zoo
