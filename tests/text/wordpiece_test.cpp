// WordPiece tokenizer: the worked examples of spec §1.1 plus the edge cases around them.
#include "data/wordpiece.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/scratch_dir.h"

namespace zoo {
namespace {

using Tokens = std::vector<std::string>;

Vocab example_vocab(Tokens extra = {}) {
  Tokens tokens = {"[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "un",   "##aff", "##able", "hello",
                   ",",     "world", "!",     "na",    "##ive",  "cafe", "a",     "##b",    "b"};
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  return Vocab(tokens);
}

WordPieceTokenizer tokenizer(TokenizerOptions options = {}) {
  return WordPieceTokenizer(example_vocab(), options);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string runtime_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no std::runtime_error>";
}

TEST(BasicTokenizer, SpecExamples) {
  const auto tok = tokenizer();
  EXPECT_EQ(tok.basic_tokenize("Hello, World!"), (Tokens{"hello", ",", "world", "!"}));
  EXPECT_EQ(tok.basic_tokenize("Héllo naïve café"), (Tokens{"hello", "naive", "cafe"}));
  EXPECT_EQ(tok.basic_tokenize("don't stop-believing"),
            (Tokens{"don", "'", "t", "stop", "-", "believing"}));
  EXPECT_EQ(tok.basic_tokenize("中文abc"), (Tokens{"中", "文", "abc"}));
  EXPECT_EQ(tok.basic_tokenize("a\u00A0b\tc\u200Bd"), (Tokens{"a", "b", "cd"}));
  EXPECT_EQ(tok.basic_tokenize("$5.00 ^_^"), (Tokens{"$", "5", ".", "00", "^", "_", "^"}));
  // NFD, not NFKD: full-width letters lower-case but stay full-width.
  EXPECT_EQ(tok.basic_tokenize("ＡＢＣ"), (Tokens{"ａｂｃ"}));
}

TEST(BasicTokenizer, NoLowerCaseKeepsCaseAndAccents) {
  TokenizerOptions options;
  options.lower_case = false;
  EXPECT_EQ(tokenizer(options).basic_tokenize("Héllo World"), (Tokens{"Héllo", "World"}));
  options.strip_accents = 1;  // HF's strip_accents=True without lower-casing
  EXPECT_EQ(tokenizer(options).basic_tokenize("Héllo World"), (Tokens{"Hello", "World"}));
}

TEST(BasicTokenizer, LowerCaseWithoutStrippingAccents) {
  TokenizerOptions options;
  options.strip_accents = 0;
  EXPECT_EQ(tokenizer(options).basic_tokenize("Héllo"), (Tokens{"héllo"}));
}

TEST(BasicTokenizer, FullStringLowerCasingMatchesPython) {
  const auto tok = tokenizer();
  // Python: "ΟΔΟΣ".lower() == "οδος" with final sigma U+03C2 (per-code-point tolower gives σ).
  EXPECT_EQ(tok.basic_tokenize("ΟΔΟΣ"), (Tokens{"\u03BF\u03B4\u03BF\u03C2"}));
  EXPECT_EQ(tok.basic_tokenize("ΣΑΣ ΟΔΟΣ"), (Tokens{"σας", "οδος"}));
  // Python: "İ".lower() == "i\u0307"; stripping then removes the combining dot (Mn).
  EXPECT_EQ(tok.basic_tokenize("İ"), (Tokens{"i"}));
  TokenizerOptions keep_accents;
  keep_accents.strip_accents = 0;
  EXPECT_EQ(tokenizer(keep_accents).basic_tokenize("İ"), (Tokens{"i\u0307"}));
}

TEST(BasicTokenizer, ChineseCharsOption) {
  TokenizerOptions options;
  options.tokenize_chinese_chars = false;
  EXPECT_EQ(tokenizer(options).basic_tokenize("中文abc"), (Tokens{"中文abc"}));
  // Hiragana and Hangul are not in the CJK ranges: they stay whole words.
  TokenizerOptions keep_accents;
  keep_accents.strip_accents = 0;
  EXPECT_EQ(tokenizer(keep_accents).basic_tokenize("ひらがな 한국어"),
            (Tokens{"ひらがな", "한국어"}));
  // As in Python BERT, accent stripping (NFD, drop Mn) removes the dakuten of が (U+3099 is Mn)
  // and decomposes Hangul syllables into conjoining jamo.
  EXPECT_EQ(tokenizer().basic_tokenize("ひらがな 한국어"),
            (Tokens{"ひらかな", "\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165"}));
}

TEST(BasicTokenizer, CleaningAndWhitespace) {
  const auto tok = tokenizer();
  EXPECT_EQ(tok.basic_tokenize(std::string("a\x01"
                                           "b\x7f"
                                           "c\0d",
                                           7)),
            (Tokens{"abcd"}));
  EXPECT_EQ(tok.basic_tokenize("a\r\nb\u3000c\u2028d"), (Tokens{"a", "b", "c", "d"}));
  EXPECT_EQ(tok.basic_tokenize("x\uFFFDy\u00ADz"), (Tokens{"xyz"}));  // U+00AD soft hyphen is Cf
  EXPECT_EQ(tok.basic_tokenize("  \t\n "), Tokens{});
  EXPECT_EQ(tok.basic_tokenize(""), Tokens{});
  // Unicode punctuation (P*) splits too; symbols outside ASCII (Sm/So) do not.
  EXPECT_EQ(tok.basic_tokenize("«quoted»—dash"), (Tokens{"«", "quoted", "»", "—", "dash"}));
  EXPECT_EQ(tok.basic_tokenize("a±b"), (Tokens{"a±b"}));
}

TEST(BasicTokenizer, InvalidUtf8IsDroppedNotFatal) {
  const auto tok = tokenizer();
  EXPECT_EQ(tok.basic_tokenize("a\xff"
                               "b"),
            (Tokens{"ab"}));
  EXPECT_EQ(tok.basic_tokenize("abc\xe4"), (Tokens{"abc"}));      // truncated sequence
  EXPECT_EQ(tok.basic_tokenize("\xed\xa0\x80x"), (Tokens{"x"}));  // encoded surrogate
  EXPECT_EQ(tok.basic_tokenize("\xc3(é"), (Tokens{"(", "e"}));
}

TEST(WordPiece, SpecExamples) {
  const auto tok = tokenizer();
  EXPECT_EQ(tok.wordpiece("unaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(tok.wordpiece("unaffablex"), (Tokens{"[UNK]"}));
  EXPECT_EQ(tok.wordpiece("naive"), (Tokens{"na", "##ive"}));
  EXPECT_EQ(tok.wordpiece("ab"), (Tokens{"a", "##b"}));
  EXPECT_EQ(tok.wordpiece(""), Tokens{});
  EXPECT_EQ(tok.tokenize("Hello, World! naïve unaffable"),
            (Tokens{"hello", ",", "world", "!", "na", "##ive", "un", "##aff", "##able"}));
}

TEST(WordPiece, MaxCharsPerWordCountsCodePoints) {
  const WordPieceTokenizer tok(example_vocab({"x", "##x", "é", "##é"}));
  const auto hundred = tok.wordpiece(std::string(100, 'x'));
  ASSERT_EQ(hundred.size(), 100u);
  EXPECT_EQ(hundred.front(), "x");
  EXPECT_EQ(hundred.back(), "##x");
  EXPECT_EQ(tok.wordpiece(std::string(101, 'x')), (Tokens{"[UNK]"}));
  // 100 two-byte characters are 200 bytes but still 100 code points.
  std::string accented;
  for (int i = 0; i < 100; ++i) accented += "é";
  EXPECT_EQ(tok.wordpiece(accented).size(), 100u);
  EXPECT_EQ(tok.wordpiece(accented + "é"), (Tokens{"[UNK]"}));
}

TEST(WordPiece, EncodeDecodeRoundTrip) {
  const auto tok = tokenizer();
  const auto ids = tok.encode("Hello, World! naïve unaffable");
  const Vocab& v = tok.vocab();
  EXPECT_EQ(ids,
            (std::vector<int64_t>{v.id("hello"), v.id(","), v.id("world"), v.id("!"), v.id("na"),
                                  v.id("##ive"), v.id("un"), v.id("##aff"), v.id("##able")}));
  EXPECT_EQ(tok.decode(ids), "hello , world ! naive unaffable");
  EXPECT_EQ(tok.decode({}), "");
  EXPECT_EQ(tok.decode({v.unk_id, v.id("##b")}), "[UNK]b");
  EXPECT_THROW(tok.decode({v.size()}), std::out_of_range);
  EXPECT_EQ(tok.encode("zzz hello"), (std::vector<int64_t>{v.unk_id, v.id("hello")}));
}

TEST(Vocab, SpecialIdsAndLookup) {
  const Vocab v = example_vocab({"hello"});  // duplicate: the first id wins
  EXPECT_EQ(v.unk_id, 0);
  EXPECT_EQ(v.cls_id, 1);
  EXPECT_EQ(v.sep_id, 2);
  EXPECT_EQ(v.pad_id, 3);
  EXPECT_EQ(v.mask_id, 4);
  EXPECT_TRUE(v.is_special(4));
  EXPECT_FALSE(v.is_special(5));
  EXPECT_EQ(v.id("hello"), 8);
  EXPECT_EQ(v.id("absent"), -1);
  EXPECT_EQ(v.size(), 19);
  EXPECT_EQ(v.token(18), "hello");
  EXPECT_THROW(v.token(19), std::out_of_range);
  EXPECT_THROW(v.token(-1), std::out_of_range);
  EXPECT_THROW(Vocab(Tokens{"[UNK]", "[CLS]", "[SEP]", "[PAD]"}), std::runtime_error);
  EXPECT_THROW(WordPieceTokenizer{Vocab{}}, std::invalid_argument);
}

TEST(Vocab, SaveLoadRoundTrip) {
  const testing::ScratchDir scratch("zoo_wordpiece");
  const std::string path = scratch.path_to("roundtrip.txt");
  const Vocab v = example_vocab({"ü", "##中"});
  v.save(path);
  EXPECT_FALSE(std::ifstream(path + ".tmp").good());  // the temporary was renamed away
  const Vocab loaded = Vocab::load(path);
  EXPECT_EQ(loaded.tokens(), v.tokens());
  EXPECT_EQ(loaded.mask_id, v.mask_id);
}

TEST(Vocab, LoadStripsCrLfAndKeepsFirstDuplicate) {
  const testing::ScratchDir scratch("zoo_wordpiece");
  const std::string path = scratch.path_to("crlf.txt");
  write_file(path, "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nfoo\r\nfoo\r\nbar");
  const Vocab v = Vocab::load(path);
  EXPECT_EQ(v.size(), 8);
  EXPECT_EQ(v.id("foo"), 5);
  EXPECT_EQ(v.id("bar"), 7);
  EXPECT_EQ(v.token(4), "[MASK]");
}

TEST(Vocab, LoadErrorsNameTheFile) {
  const testing::ScratchDir scratch("zoo_wordpiece");
  const std::string missing = scratch.path_to("does_not_exist.txt");
  EXPECT_NE(runtime_error_message([&] { Vocab::load(missing); }).find(missing), std::string::npos);

  const std::string empty = scratch.path_to("empty.txt");
  write_file(empty, "");
  EXPECT_NE(runtime_error_message([&] { Vocab::load(empty); }).find(empty), std::string::npos);

  const std::string no_mask = scratch.path_to("no_mask.txt");
  write_file(no_mask, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
  const std::string message = runtime_error_message([&] { Vocab::load(no_mask); });
  EXPECT_NE(message.find(no_mask), std::string::npos) << message;
  EXPECT_NE(message.find("[MASK]"), std::string::npos) << message;

  const std::string binary = scratch.path_to("binary.txt");
  write_file(binary, "[PAD]\n[UNK]\n\xff\xfe\n");
  EXPECT_NE(runtime_error_message([&] { Vocab::load(binary); }).find(binary + ":3"),
            std::string::npos);
}

// Issue 29: a vocab.txt that is a FIFO or /dev/zero was read until memory ran out or blocked in
// open(); the README's 1 MiB line bound was not applied to it.
TEST(Vocab, SpecialFilesAndLongLinesAreRefused) {
  const testing::ScratchDir scratch("zoo_wordpiece");
  const std::string fifo = scratch.path_to("fifo.txt");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(runtime_error_message([&] { Vocab::load(fifo); }), fifo + ": is a FIFO, not a regular file");
  EXPECT_EQ(runtime_error_message([&] { Vocab::load("/dev/zero"); }), "/dev/zero: is a character device, not a regular file");
  const std::string long_line = scratch.path_to("long.txt");
  write_file(long_line, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" + std::string((1u << 20) + 1, 'a') + "\n");
  EXPECT_EQ(runtime_error_message([&] { Vocab::load(long_line); }),
            long_line + ":6: line of 1048577 bytes exceeds the limit of 1048576");
  write_file(long_line, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" + std::string(1u << 20, 'a'));  // at the bound: fine
  EXPECT_EQ(Vocab::load(long_line).size(), 6);
}

}  // namespace
}  // namespace zoo
