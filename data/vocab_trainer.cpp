#include "data/vocab_trainer.h"

#include <algorithm>
#include <queue>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace zoo {
namespace {

using PieceId = int32_t;  // = the piece's id in the final vocabulary
using PairKey = uint64_t;

PairKey pair_key(PieceId a, PieceId b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
PieceId pair_first(PairKey k) { return static_cast<PieceId>(k >> 32); }
PieceId pair_second(PairKey k) { return static_cast<PieceId>(k & 0xFFFFFFFFu); }

// The vocabulary under construction: piece strings by id, and ids by string.
struct Pieces {
  std::vector<std::string> strings;
  std::unordered_map<std::string, PieceId> ids;

  PieceId intern(const std::string& s) {
    auto it = ids.find(s);
    if (it != ids.end()) return it->second;
    const auto id = static_cast<PieceId>(strings.size());
    strings.push_back(s);
    ids.emplace(s, id);
    return id;
  }
};

struct Word {
  std::vector<PieceId> pieces;
  int64_t freq = 0;
};

// Splits a (valid UTF-8) word into its characters.
std::vector<std::string> utf8_chars(const std::string& word) {
  std::vector<std::string> chars;
  for (size_t i = 0; i < word.size();) {
    size_t j = i + 1;
    while (j < word.size() && (static_cast<uint8_t>(word[j]) & 0xC0) == 0x80) ++j;
    chars.push_back(word.substr(i, j - i));
    i = j;
  }
  return chars;
}

// Basic tokens of all texts with their counts, sorted by string so that nothing downstream
// depends on hash-map iteration order.
std::vector<std::pair<std::string, int64_t>> count_words(const std::vector<std::string>& texts,
                                                         const TokenizerOptions& options) {
  const WordPieceTokenizer basic(
      Vocab(std::vector<std::string>(std::begin(kSpecialTokens), std::end(kSpecialTokens))),
      options);
  std::unordered_map<std::string, int64_t> counts;
  for (const std::string& text : texts) {
    for (std::string& token : basic.basic_tokenize(text)) ++counts[std::move(token)];
  }
  std::vector<std::pair<std::string, int64_t>> words(counts.begin(), counts.end());
  std::sort(words.begin(), words.end());
  return words;
}

// Every character in both forms, weighted by how often each form occurs; most frequent first.
std::vector<std::string> build_alphabet(const std::vector<std::pair<std::string, int64_t>>& words,
                                        int64_t max_chars) {
  std::unordered_map<std::string, int64_t> freq;
  for (const auto& [word, count] : words) {
    const std::vector<std::string> chars = utf8_chars(word);
    if (static_cast<int64_t>(chars.size()) > max_chars) continue;
    for (size_t i = 0; i < chars.size(); ++i) {
      freq[i == 0 ? chars[i] : "##" + chars[i]] += count;
      freq.emplace(i == 0 ? "##" + chars[i] : chars[i], 0);  // the other form, if unseen
    }
  }
  std::vector<std::pair<std::string, int64_t>> sorted(freq.begin(), freq.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  std::vector<std::string> alphabet;
  alphabet.reserve(sorted.size());
  for (auto& entry : sorted) alphabet.push_back(std::move(entry.first));
  return alphabet;
}

// BPE over words with incrementally maintained pair counts. A max-heap holds (count, pair)
// entries lazily: an entry may be stale; popping one whose count no longer matches re-queues the
// current count (a higher current count always has its own entry, pushed when it rose).
class Merger {
 public:
  Merger(std::vector<Word> words, Pieces& pieces) : words_(std::move(words)), pieces_(pieces) {
    for (size_t w = 0; w < words_.size(); ++w) add_pairs(static_cast<int32_t>(w));
    for (const auto& [key, count] : counts_) heap_.push({count, key});
  }

  // Merges until the vocabulary has `vocab_size` pieces or no pair occurs `min_frequency` times.
  void run(size_t vocab_size, int64_t min_frequency) {
    while (pieces_.strings.size() < vocab_size && !heap_.empty()) {
      const Entry top = heap_.top();
      heap_.pop();
      const int64_t current = count_of(top.key);
      if (current != top.count) {
        if (current > 0 && current < top.count) heap_.push({current, top.key});
        continue;
      }
      if (current < min_frequency) break;
      merge(top.key);
    }
  }

 private:
  struct Entry {
    int64_t count;
    PairKey key;
    // Highest count on top; among equal counts the lowest (first id, second id).
    bool operator<(const Entry& o) const {
      return count != o.count ? count < o.count : key > o.key;
    }
  };

  int64_t count_of(PairKey key) const {
    auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
  }

  // Counts the pairs of word w at construction (where_ lists may hold duplicates; merge dedupes).
  void add_pairs(int32_t w) {
    const Word& word = words_[static_cast<size_t>(w)];
    for (size_t i = 0; i + 1 < word.pieces.size(); ++i) {
      const PairKey key = pair_key(word.pieces[i], word.pieces[i + 1]);
      counts_[key] += word.freq;
      where_[key].push_back(w);
    }
  }

  void remove_pairs(const Word& word) {
    for (size_t i = 0; i + 1 < word.pieces.size(); ++i) {
      auto it = counts_.find(pair_key(word.pieces[i], word.pieces[i + 1]));
      if ((it->second -= word.freq) == 0) counts_.erase(it);
    }
  }

  void merge(PairKey key) {
    const PieceId a = pair_first(key), b = pair_second(key);
    // b sits after position 0 of its words, so it is always a "##" continuation piece.
    const PieceId merged = pieces_.intern(pieces_.strings[a] + pieces_.strings[b].substr(2));
    std::vector<int32_t> affected = std::move(where_[key]);
    where_.erase(key);
    std::sort(affected.begin(), affected.end());
    affected.erase(std::unique(affected.begin(), affected.end()), affected.end());

    std::vector<PairKey> raised;
    std::vector<PieceId> rebuilt;
    for (int32_t w : affected) {
      Word& word = words_[static_cast<size_t>(w)];
      rebuilt.clear();
      for (size_t i = 0; i < word.pieces.size();) {
        if (i + 1 < word.pieces.size() && word.pieces[i] == a && word.pieces[i + 1] == b) {
          rebuilt.push_back(merged);
          i += 2;
        } else {
          rebuilt.push_back(word.pieces[i++]);
        }
      }
      if (rebuilt.size() == word.pieces.size()) continue;  // stale entry: pair already gone
      // Re-count the whole (short) word: simpler than patching neighbours, same result.
      remove_pairs(word);
      word.pieces.swap(rebuilt);
      for (size_t i = 0; i + 1 < word.pieces.size(); ++i) {
        const PairKey k = pair_key(word.pieces[i], word.pieces[i + 1]);
        counts_[k] += word.freq;
        if (word.pieces[i] == merged || word.pieces[i + 1] == merged) {
          where_[k].push_back(w);
          raised.push_back(k);
        }
      }
    }
    std::sort(raised.begin(), raised.end());
    raised.erase(std::unique(raised.begin(), raised.end()), raised.end());
    for (PairKey k : raised) heap_.push({count_of(k), k});
  }

  std::vector<Word> words_;
  Pieces& pieces_;
  std::unordered_map<PairKey, int64_t> counts_;
  std::unordered_map<PairKey, std::vector<int32_t>> where_;  // words that contain(ed) a pair
  std::priority_queue<Entry> heap_;
};

}  // namespace

Vocab train_wordpiece_vocab(const std::vector<std::string>& texts,
                            const VocabTrainerOptions& options) {
  if (options.vocab_size < 5) {
    throw std::invalid_argument("train_wordpiece_vocab: vocab_size " +
                                std::to_string(options.vocab_size) + " < 5 special tokens");
  }
  const auto vocab_size = static_cast<size_t>(options.vocab_size);
  const int64_t max_chars = options.tokenizer.max_chars_per_word;
  Pieces pieces;
  for (const char* special : kSpecialTokens) pieces.intern(special);

  const auto words = count_words(texts, options.tokenizer);
  const std::vector<std::string> alphabet = build_alphabet(words, max_chars);
  for (const std::string& c : alphabet) {
    if (pieces.strings.size() >= vocab_size) return Vocab(std::move(pieces.strings));
    pieces.intern(c);
  }

  std::vector<Word> split;
  split.reserve(words.size());
  for (const auto& [text, count] : words) {
    const std::vector<std::string> chars = utf8_chars(text);
    if (chars.size() < 2 || static_cast<int64_t>(chars.size()) > max_chars) continue;
    Word word;
    word.freq = count;
    for (size_t i = 0; i < chars.size(); ++i) {
      word.pieces.push_back(pieces.ids.at(i == 0 ? chars[i] : "##" + chars[i]));
    }
    split.push_back(std::move(word));
  }
  Merger merger(std::move(split), pieces);
  merger.run(vocab_size, std::max<int64_t>(options.min_frequency, 1));
  return Vocab(std::move(pieces.strings));
}

}  // namespace zoo
