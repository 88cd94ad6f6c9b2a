#include "train/tasks/bert_common.h"

#include <filesystem>

#include "data/vocab_trainer.h"
#include "train/trainer.h"

namespace zoo {

Json bert_model_defaults() {
  const BertConfig b;
  return {{"hidden_size", b.hidden_size},           {"num_layers", b.num_layers},
          {"num_heads", b.num_heads},               {"intermediate_size", b.intermediate_size},
          {"max_position", b.max_position},         {"hidden_dropout", b.hidden_dropout},
          {"attention_dropout", b.attention_dropout}, {"initializer_range", b.initializer_range},
          {"norm_first", b.norm_first}};
}

BertConfig bert_config_from(const Config& cfg, const std::string& section) {
  const Json& m = cfg.at(section);
  BertConfig b;
  b.hidden_size = m.at("hidden_size").get<int64_t>();
  b.num_layers = m.at("num_layers").get<int64_t>();
  b.num_heads = m.at("num_heads").get<int64_t>();
  b.intermediate_size = m.at("intermediate_size").get<int64_t>();
  b.max_position = m.at("max_position").get<int64_t>();
  b.hidden_dropout = m.at("hidden_dropout").get<double>();
  b.attention_dropout = m.at("attention_dropout").get<double>();
  b.initializer_range = m.at("initializer_range").get<double>();
  // Absent from the config.json of runs made before the option existed: those are post-LN.
  b.norm_first = m.contains("norm_first") && m.at("norm_first").get<bool>();
  const std::string s = section + ".";
  cfg.require(b.hidden_size > 0 && b.num_heads > 0 && b.hidden_size % b.num_heads == 0,
              s + "hidden_size", "must be a positive multiple of " + s + "num_heads");
  cfg.require(b.num_layers > 0, s + "num_layers", "must be > 0");
  cfg.require(b.intermediate_size > 0, s + "intermediate_size", "must be > 0");
  cfg.require(b.max_position > 0, s + "max_position", "must be > 0");
  cfg.require(b.hidden_dropout >= 0 && b.hidden_dropout < 1, s + "hidden_dropout", "must be in [0, 1)");
  cfg.require(b.attention_dropout >= 0 && b.attention_dropout < 1, s + "attention_dropout",
              "must be in [0, 1)");
  cfg.require(b.initializer_range > 0, s + "initializer_range", "must be > 0");
  return b;
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
