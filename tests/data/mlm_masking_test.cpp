// The BERT masker: selection rate and 80/10/10 split, never a special or padding token,
// determinism, and whole-word masking.
#include <gtest/gtest.h>

#include "data/mlm_masking.h"
#include "data/sampling.h"

namespace zoo {
namespace {

// ids 0..4 special ([PAD] [UNK] [CLS] [SEP] [MASK]); ids 50.. are "##" pieces.
MaskingVocab test_vocab() {
  MaskingVocab v;
  v.vocab_size = 100;
  v.mask_id = 4;
  for (int64_t id = 0; id < 100; ++id) {
    v.never_select.push_back(id < 5);
    v.continuation.push_back(id >= 50);
  }
  return v;
}

TEST(MlmMasking, StatisticsMatchBert) {
  const MaskingVocab vocab = test_vocab();
  std::vector<int64_t> ids = {2};
  for (int64_t i = 0; i < 1000; ++i) ids.push_back(5 + i % 40);
  ids.push_back(3);
  int64_t selected = 0, masked = 0, random = 0, kept = 0, total = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto m = mask_sequence(ids, vocab, {}, seed);
    for (size_t i = 0; i < ids.size(); ++i) {
      total += vocab.never_select[static_cast<size_t>(ids[i])] ? 0 : 1;
      if (m.labels[i] == -100) {
        EXPECT_EQ(m.input_ids[i], ids[i]);
        continue;
      }
      EXPECT_EQ(m.labels[i], ids[i]);
      ++selected;
      if (m.input_ids[i] == 4) ++masked;
      else if (m.input_ids[i] == ids[i]) ++kept;
      else ++random;
    }
  }
  // 200k candidate tokens: binomial standard errors are ~0.0008 (rate) and ~0.002 (shares).
  EXPECT_NEAR(static_cast<double>(selected) / total, 0.15, 0.004);
  EXPECT_NEAR(static_cast<double>(masked) / selected, 0.80, 0.01);
  // A random draw equals the original with probability 1/100: kept ~ 0.1 + 0.001.
  EXPECT_NEAR(static_cast<double>(random) / selected, 0.099, 0.01);
  EXPECT_NEAR(static_cast<double>(kept) / selected, 0.101, 0.01);
}

TEST(MlmMasking, NeverSelectsSpecialOrPaddingTokens) {
  const MaskingVocab vocab = test_vocab();
  const std::vector<int64_t> ids = {2, 10, 1, 11, 4, 12, 3, 0, 0, 0};
  MaskingOptions all;
  all.mask_probability = 1.0;
  const auto m = mask_sequence(ids, vocab, all, 7);
  for (size_t i : {0, 2, 4, 6, 7, 8, 9}) EXPECT_EQ(m.labels[i], -100) << i;
  for (size_t i : {1, 3, 5}) EXPECT_EQ(m.labels[i], ids[i]) << i;
}

TEST(MlmMasking, DeterministicInTheSeed) {
  const MaskingVocab vocab = test_vocab();
  std::vector<int64_t> ids(64, 20);
  const auto a = mask_sequence(ids, vocab, {}, 42), b = mask_sequence(ids, vocab, {}, 42);
  const auto c = mask_sequence(ids, vocab, {}, 43);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.input_ids, b.input_ids);
  EXPECT_NE(a.labels, c.labels);
}

TEST(MlmMasking, WholeWordMaskingSelectsAllPiecesOfAWord) {
  const MaskingVocab vocab = test_vocab();
  // words: [10 ##60 ##61] [11] [12 ##62]
  const std::vector<int64_t> ids = {2, 10, 60, 61, 11, 12, 62, 3};
  MaskingOptions wwm;
  wwm.whole_word = true;
  wwm.mask_probability = 0.5;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const auto m = mask_sequence(ids, vocab, wwm, seed);
    EXPECT_EQ(m.labels[1] == -100, m.labels[2] == -100);
    EXPECT_EQ(m.labels[2] == -100, m.labels[3] == -100);
    EXPECT_EQ(m.labels[5] == -100, m.labels[6] == -100);
  }
}

TEST(MlmMasking, OutOfVocabularyIdIsAnError) {
  EXPECT_THROW(mask_sequence({2, 100, 3}, test_vocab(), {}, 0), std::out_of_range);
}

TEST(EpochSampler, EachEpochIsAPermutation) {
  EpochSampler s(10, 3);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<int> seen(10, 0);
    for (int64_t i = 0; i < 10; ++i) ++seen[static_cast<size_t>(s(epoch * 10 + i))];
    for (int count : seen) EXPECT_EQ(count, 1);
  }
  EpochSampler t(10, 3);
  EXPECT_EQ(s(25), t(25));  // random access, no hidden state
}

}  // namespace
}  // namespace zoo
