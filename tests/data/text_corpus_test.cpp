// Text files into documents (WikiText headings, blank-line documents), the embedded corpus and
// packing into [CLS] ... [SEP] sequences.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/text_corpus.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

// Each test's files in a folder of its own, removed after it.
class TextCorpus : public testing::ScratchDirTest {};

TEST_F(TextCorpus, WikiTextTitlesDelimitDocumentsAndHeadingsAreDropped) {
  const auto path = write_temp("wiki.txt", " \n = First = \n \n Para one . \n \n = = Section = = \n \n Para two . \n"
                                       " \n = Second = \n \n Para three . \n");
  const auto docs = read_text_documents(path);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], (Document{" Para one . ", " Para two . "}));
  EXPECT_EQ(docs[1], (Document{" Para three . "}));
}

TEST_F(TextCorpus, BlankLinesSeparateDocumentsInPlainText) {
  const auto docs = read_text_documents(write_temp("plain.txt", "a b\r\nc d\r\n\r\n\r\ne f\n"));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], (Document{"a b", "c d"}));
  EXPECT_EQ(docs[1], (Document{"e f"}));
}

TEST_F(TextCorpus, MissingOrEmptyFileIsAnErrorNamingIt) {
  try {
    read_text_documents("/nonexistent/corpus.txt");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/corpus.txt"), std::string::npos);
  }
  EXPECT_THROW(read_text_documents(write_temp("empty.txt", "\n\n")), std::runtime_error);
}

TEST_F(TextCorpus, InvalidUtf8AndRunawayLinesNameTheLine) {
  const auto error_of = [](const std::string& path) -> std::string {
    try {
      read_text_documents(path);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  // Random bytes appended to a good file, and a truncated 3-byte sequence.
  std::string path = write_temp("bad_utf8.txt", "good line\n\nsecond \xe2\x82 euro\n");
  EXPECT_EQ(error_of(path), path + ":3: invalid UTF-8 (text files must be UTF-8)");
  path = write_temp("binary.txt", "fine\n\xff\xfe\x00\x01\n");
  EXPECT_EQ(error_of(path), path + ":2: invalid UTF-8 (text files must be UTF-8)");
  path = write_temp("long.txt", "ok\n" + std::string(kMaxTextLineBytes + 1, 'a') + "\n");
  EXPECT_NE(error_of(path).find(path + ":2: line of 1048577 bytes exceeds the limit of 1048576"), std::string::npos);
  // A byte-order mark and accented text are fine.
  EXPECT_EQ(read_text_documents(write_temp("bom.txt", "\xEF\xBB\xBF" "caf\xc3\xa9\n"))[0], (Document{"caf\xc3\xa9"}));
}

TEST_F(TextCorpus, EmbeddedCorpusIsDeterministicAndConsistent) {
  const auto a = embedded_corpus(50, 0), b = embedded_corpus(50, 0), c = embedded_corpus(50, 1);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // The fixed world: a person always lives in the same city, whatever the document.
  std::map<std::string, std::string> home;
  for (const auto& doc : embedded_corpus(400, 5)) {
    const std::string& text = doc[0];
    const auto at = text.find(" lives in ");
    ASSERT_NE(at, std::string::npos);
    const auto name_start = text.rfind(". ", at);
    const std::string name = text.substr(name_start == std::string::npos ? 0 : name_start + 2,
                                         at - (name_start == std::string::npos ? 0 : name_start + 2));
    const std::string city = text.substr(at + 10, text.find(' ', at + 10) - at - 10);
    if (home.count(name)) {
      EXPECT_EQ(home[name], city) << name;
    }
    home[name] = city;
  }
  EXPECT_GT(home.size(), 20u);
}

TEST_F(TextCorpus, PackingWrapsChunksAndNeverCrossesDocuments) {
  const std::vector<std::vector<int64_t>> docs = {{10, 11, 12, 13, 14, 15, 16}, {20, 21}, {30, 31, 32}};
  const auto seqs = pack_sequences(docs, 5, 2, 3, /*min_tokens=*/2);
  const std::vector<std::vector<int64_t>> expected = {
      {2, 10, 11, 12, 3}, {2, 13, 14, 15, 3}, {2, 20, 21, 3}, {2, 30, 31, 32, 3}};
  // {16} alone is shorter than min_tokens and is dropped.
  EXPECT_EQ(seqs, expected);
}

}  // namespace
}  // namespace zoo
