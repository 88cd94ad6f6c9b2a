#pragma once
// A WordPiece vocabulary: one token per line of vocab.txt, id = line number - 1, as in published
// BERT checkpoints; the five special tokens must be present.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace zoo {

// The five special tokens every vocabulary holds, in the order a new vocabulary gives them ids.
inline constexpr const char* kSpecialTokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

class Vocab {
 public:
  Vocab() = default;
  explicit Vocab(std::vector<std::string> tokens);  // id = index
  // One token per line (vocab.txt); errors name the file and line.
  static Vocab load(const std::string& path);
  void save(const std::string& path) const;  // atomic

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t id(const std::string& token) const;  // -1 when absent
  bool contains(const std::string& token) const { return id(token) >= 0; }
  const std::string& token(int64_t id) const;  // throws std::out_of_range
  const std::vector<std::string>& tokens() const { return tokens_; }

  // Ids of [PAD] [UNK] [CLS] [SEP] [MASK]; construction fails when one is missing.
  int64_t pad_id = -1, unk_id = -1, cls_id = -1, sep_id = -1, mask_id = -1;
  bool is_special(int64_t id) const {
    return id == pad_id || id == unk_id || id == cls_id || id == sep_id || id == mask_id;
  }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace zoo
