// WordPiece vocabulary trainer: layout, determinism, hand-checked merges, coverage.
#include "data/vocab_trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tests/scratch_dir.h"

namespace zoo {
namespace {

using Tokens = std::vector<std::string>;

const Tokens kSpecials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

Tokens repeat(const std::string& text, int times) {
  return Tokens(static_cast<size_t>(times), text);
}

VocabTrainerOptions options_with(int64_t vocab_size, int64_t min_frequency = 2) {
  VocabTrainerOptions options;
  options.vocab_size = vocab_size;
  options.min_frequency = min_frequency;
  return options;
}

int64_t count_unk(const WordPieceTokenizer& tok, const Tokens& texts) {
  int64_t unk = 0;
  for (const auto& text : texts) {
    for (int64_t id : tok.encode(text)) unk += id == tok.vocab().unk_id;
  }
  return unk;
}

const Tokens kMixedCorpus = {
    "The quick brown fox jumps over the lazy dog.",
    "Héllo naïve café — «quoted» text, don't stop-believing!",
    "中文abc and ひらがな mixed with numbers 3.14 and $5.00 ^_^",
    "The lazy dog sleeps; the quick fox runs. The end.",
};

TEST(VocabTrainer, SpecialsFirstThenBothFormsOfEveryCharacter) {
  const Vocab v = train_wordpiece_vocab({"ab ba"}, options_with(100));
  ASSERT_GE(v.size(), 9);
  EXPECT_EQ(Tokens(v.tokens().begin(), v.tokens().begin() + 5), kSpecials);
  EXPECT_EQ(v.pad_id, 0);
  EXPECT_EQ(v.unk_id, 1);
  EXPECT_EQ(v.cls_id, 2);
  EXPECT_EQ(v.sep_id, 3);
  EXPECT_EQ(v.mask_id, 4);
  // Each form occurs once; ties ordered by bytes ('#' sorts before letters).
  EXPECT_EQ(Tokens(v.tokens().begin() + 5, v.tokens().begin() + 9),
            (Tokens{"##a", "##b", "a", "b"}));
  EXPECT_EQ(v.size(), 9);  // no pair occurs twice
}

TEST(VocabTrainer, HandCheckedMergesOnLowLowerLowest) {
  // Pair counts (x5): l+##o 15, ##o+##w 15, ##w+##e 10, ##e+##r 5, ##e+##s 5, ##s+##t 5.
  // Alphabet ids: ##o 5, ##w 6, l 7, ##e 8, ##r 9, ##s 10, ##t 11, then 7 unseen forms (12-18).
  // The 15-tie goes to the lower ids (##o, ##w); then l+##ow, low+##e; among the 5s ##s+##t
  // (10, 11) precedes lowe+##r (21, 9); finally lowe+##r and lowe+##st.
  const Tokens corpus = repeat("low lower lowest", 5);
  const Vocab v = train_wordpiece_vocab(corpus, options_with(100));
  ASSERT_EQ(v.size(), 25);
  EXPECT_EQ(Tokens(v.tokens().begin() + 5, v.tokens().begin() + 12),
            (Tokens{"##o", "##w", "l", "##e", "##r", "##s", "##t"}));
  EXPECT_EQ(Tokens(v.tokens().begin() + 19, v.tokens().end()),
            (Tokens{"##ow", "low", "lowe", "##st", "lower", "lowest"}));

  const WordPieceTokenizer tok(v);
  EXPECT_EQ(tok.tokenize("low lowest slow"), (Tokens{"low", "lowest", "s", "##l", "##ow"}));

  // min_frequency 6 keeps only the merges seen 15 and 10 times.
  const Vocab frequent = train_wordpiece_vocab(corpus, options_with(100, 6));
  EXPECT_EQ(Tokens(frequent.tokens().begin() + 19, frequent.tokens().end()),
            (Tokens{"##ow", "low", "lowe"}));
}

TEST(VocabTrainer, RespectsRequestedSize) {
  for (int64_t size : {5, 12, 21, 40}) {
    const Vocab v = train_wordpiece_vocab(repeat("low lower lowest", 5), options_with(size));
    EXPECT_EQ(v.size(), std::min<int64_t>(size, 25)) << "vocab_size " << size;
    EXPECT_EQ(v.mask_id, 4);
  }
  EXPECT_THROW(train_wordpiece_vocab({"abc"}, options_with(4)), std::invalid_argument);
}

TEST(VocabTrainer, Deterministic) {
  const Vocab a = train_wordpiece_vocab(kMixedCorpus, options_with(80));
  const Vocab b = train_wordpiece_vocab(kMixedCorpus, options_with(80));
  EXPECT_EQ(a.tokens(), b.tokens());
  // Splitting the same text differently into texts changes nothing (only word counts matter).
  std::string joined;
  for (const auto& t : kMixedCorpus) joined += t + "\n";
  EXPECT_EQ(train_wordpiece_vocab({joined}, options_with(80)).tokens(), a.tokens());
}

TEST(VocabTrainer, TrainingTextHasNoUnknownPieces) {
  // Sizes that fit the whole alphabet (both forms of every character).
  for (int64_t size : {200, 400, 1000}) {
    const Vocab v = train_wordpiece_vocab(kMixedCorpus, options_with(size, 1));
    const WordPieceTokenizer tok(v);
    EXPECT_EQ(count_unk(tok, kMixedCorpus), 0) << "vocab_size " << size;
    EXPECT_TRUE(v.contains("##e"));
    EXPECT_FALSE(v.contains("##é"));  // accents were stripped before training
    EXPECT_TRUE(v.contains("中"));
  }
}

TEST(VocabTrainer, TrainedVocabSavesAndLoads) {
  const Vocab v = train_wordpiece_vocab(kMixedCorpus, options_with(70));
  const testing::ScratchDir scratch("zoo_trained_vocab");
  const std::string path = scratch.path_to("vocab.txt");
  v.save(path);
  EXPECT_EQ(Vocab::load(path).tokens(), v.tokens());
}

TEST(VocabTrainer, WikiText2Valid) {
  const std::string path = ZOO_SOURCE_DIR "/../shared/data/wikitext2/valid.txt";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "WikiText-2 not found at " << path << " (shared data not mounted)";
  Tokens lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  const auto t0 = std::chrono::steady_clock::now();
  const Vocab v = train_wordpiece_vocab(lines, options_with(8192));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "trained 8192-token vocab on " << lines.size() << " lines in " << seconds << " s\n";
  EXPECT_EQ(v.size(), 8192);
  EXPECT_LT(seconds, 60.0) << "trainer should use incremental pair counts";

  const WordPieceTokenizer tok(v);
  int64_t tokens = 0, unk = 0;
  for (const auto& line : lines) {
    for (int64_t id : tok.encode(line)) {
      ++tokens;
      unk += id == v.unk_id;
    }
  }
  ASSERT_GT(tokens, 100000);
  EXPECT_LT(static_cast<double>(unk) / static_cast<double>(tokens), 1e-4);
  EXPECT_TRUE(v.contains("the"));
}

}  // namespace
}  // namespace zoo
