#pragma once
// BERT WordPiece tokenization, compatible with the vocab.txt of published BERT checkpoints:
// the basic tokenizer (cleaning, CJK spacing, lower-casing, NFD accent stripping, punctuation
// split) then greedy longest-match-first WordPiece with "##" continuations. Unicode properties,
// normalisation and lower-casing come from ICU; WordPiece itself has no library here.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/vocab.h"

namespace zoo {

struct TokenizerOptions {
  bool lower_case = true;
  // -1: follow lower_case (Google BERT); 0/1: force off/on (Hugging Face's strip_accents).
  int strip_accents = -1;
  bool tokenize_chinese_chars = true;
  int max_chars_per_word = 100;
};

class WordPieceTokenizer {
 public:
  WordPieceTokenizer(Vocab vocab, TokenizerOptions options = {});

  // Basic tokens (before WordPiece), as UTF-8 strings.
  std::vector<std::string> basic_tokenize(const std::string& text) const;
  // WordPiece strings of one basic token ("un", "##aff", ...), or {"[UNK]"}.
  std::vector<std::string> wordpiece(const std::string& token) const;
  // Text -> wordpiece strings / ids (no [CLS]/[SEP]).
  std::vector<std::string> tokenize(const std::string& text) const;
  std::vector<int64_t> encode(const std::string& text) const;
  // Joins with spaces and removes " ##".
  std::string decode(const std::vector<int64_t>& ids) const;

  const Vocab& vocab() const { return vocab_; }
  const TokenizerOptions& options() const { return options_; }

 private:
  Vocab vocab_;
  TokenizerOptions options_;
  // Longest vocab entry in bytes: WordPiece never tries a longer candidate.
  size_t max_piece_bytes_ = 0;
};

}  // namespace zoo
