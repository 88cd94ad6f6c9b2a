// STS pair loaders (STS-B release TSV, CSV, SICK, JSONL, format detection), their errors, the
// real STS-B files when present, and the generated pair set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "data/sts_pairs.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

// Each test's files in a folder of its own, removed after it.
class StsPairs : public testing::ScratchDirTest {};

// The message of the runtime_error that loading throws ("" when it does not throw).
std::string load_error(const std::string& path, const std::string& format, double lo = 0, double hi = 5,
                       const std::string& split = "") {
  try {
    load_sts_pairs(path, format, lo, hi, split);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST_F(StsPairs, StsbFormatSplitsOnTabsOnlyAndIgnoresExtraColumns) {
  const auto path = write_temp(
      "a.csv",
      "main-captions\tMSRvid\t2012test\t0001\t5.000\tA plane is taking off.\tAn air plane is taking off.\n"
      "main-news\theadlines\t2013\t0042\t1.53333333333333\t \"Quoted, with comma\" he said \tHe said \"no\"\t"
      "license1\tlicense2\n"
      "\n"
      "main-forum\tdeft-forum\t2014\t0007\t4\ta\"b\tc\n");
  const auto pairs = load_sts_pairs(path, "stsb", 0, 5);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].s1, "A plane is taking off.");
  EXPECT_EQ(pairs[0].s2, "An air plane is taking off.");
  EXPECT_DOUBLE_EQ(pairs[0].score, 5.0);
  EXPECT_EQ(pairs[1].s1, "\"Quoted, with comma\" he said");  // literal quotes, trimmed
  EXPECT_EQ(pairs[1].s2, "He said \"no\"");
  EXPECT_DOUBLE_EQ(pairs[1].score, 1.53333333333333);
  EXPECT_EQ(pairs[2].s1, "a\"b");
  EXPECT_DOUBLE_EQ(pairs[2].score, 4.0);
  EXPECT_EQ(detect_sts_format(path), "stsb");
}

TEST_F(StsPairs, StsbErrorsNameFileAndLine) {
  const std::string good = "g\tf\t2012\t1\t3.0\ta\tb\n";
  struct Case {
    std::string row, expected;
  };
  const std::vector<Case> cases = {
      {"g\tf\t2012\t1\t3.0\ta\n", "expected at least 7 TAB-separated fields, found 6"},
      {"g\tf\t2012\t1\tx3\ta\tb\n", "score 'x3' is not a number"},
      {"g\tf\t2012\t1\t3.0abc\ta\tb\n", "score '3.0abc' is not a number"},
      {"g\tf\t2012\t1\tnan\ta\tb\n", "is not a number"},
      {"g\tf\t2012\t1\t5.5\ta\tb\n", "score 5.5 outside [0, 5]"},
      {"g\tf\t2012\t1\t-0.25\ta\tb\n", "score -0.25 outside [0, 5]"},
      {"g\tf\t2012\t1\t3\t  \tb\n", "sentence 1 is empty"},
      {"g\tf\t2012\t1\t3\ta\t\n", "sentence 2 is empty"},
      {"g\tf\t2012\t1\t3\ta \xC3\x28 b\tb\n", "invalid UTF-8"},      // bad continuation byte
      {"g\tf\t2012\t1\t3\t\xED\xA0\x80\tb\n", "invalid UTF-8"},        // encoded surrogate
      {"g\tf\t2012\t1\t3\t\xC0\xAF\tb\n", "invalid UTF-8"},            // overlong '/'
  };
  for (const auto& c : cases) {
    const auto path = write_temp("bad.tsv", good + "\n" + c.row);
    const std::string message = load_error(path, "stsb");
    EXPECT_EQ(message.rfind(path + ":3: ", 0), 0u) << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
  // Valid multi-byte UTF-8 is fine.
  EXPECT_EQ(load_sts_pairs(write_temp("utf8.tsv", "g\tf\t2012\t1\t3\tcaf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\tb\n"),
                           "stsb", 0, 5)[0].s1,
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST_F(StsPairs, MissingOrEmptyFile) {
  EXPECT_EQ(load_error("/nonexistent/sts.csv", "auto"), "/nonexistent/sts.csv: cannot open");
  const auto empty = write_temp("empty.csv", "\n  \n");
  EXPECT_EQ(load_error(empty, "csv"), empty + ": no sentence pairs");
  EXPECT_THROW(load_sts_pairs(empty, "xml", 0, 5), std::invalid_argument);
  EXPECT_THROW(load_sts_pairs(empty, "csv", 5, 0), std::invalid_argument);
  EXPECT_THROW(load_sts_pairs(empty, "csv", 0, 5, "TRAIN"), std::invalid_argument);  // split without SICK
}

TEST_F(StsPairs, CsvQuotingCrlfBomAndMultiLineFields) {
  const auto path = write_temp(
      "b.csv",
      "\xEF\xBB\xBFsentence1,sentence2,similarity_score\r\n"
      "A plane is taking off.,An air plane is taking off.,5.0\r\n"
      "\"A dog in a \"\"superman\"\" shirt.\",\"One, two\",4.0\r\n"
      "He said \"hi\",b,0.25,extra column\r\n"
      "\"first line\r\nsecond line\",b,1\r\n"
      "x,y,2\r\n");
  EXPECT_EQ(detect_sts_format(path), "csv");
  const auto pairs = load_sts_pairs(path, "auto", 0, 5);
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_EQ(pairs[0].s1, "A plane is taking off.");
  EXPECT_DOUBLE_EQ(pairs[0].score, 5.0);
  EXPECT_EQ(pairs[1].s1, "A dog in a \"superman\" shirt.");
  EXPECT_EQ(pairs[1].s2, "One, two");
  EXPECT_EQ(pairs[2].s1, "He said \"hi\"");  // a quote inside an unquoted field is literal
  EXPECT_DOUBLE_EQ(pairs[2].score, 0.25);
  EXPECT_EQ(pairs[3].s1, "first line\nsecond line");
  EXPECT_EQ(pairs[4].s1, "x");
  // Without a header the first row is data.
  EXPECT_EQ(load_sts_pairs(write_temp("c.csv", "a,b,3\n"), "csv", 0, 5).size(), 1u);
}

TEST_F(StsPairs, CsvErrorsNameTheRecordLine) {
  const std::string head = "a,b,1\n";
  auto error_of = [&](const std::string& body) { return load_error(write_temp("bad.csv", head + body), "csv"); };
  EXPECT_NE(error_of("a,b\n").find(":2: expected at least 3 comma-separated fields, found 2"), std::string::npos);
  EXPECT_NE(error_of("\"a\" x,b,1\n").find(":2: unexpected text after a closing quote"), std::string::npos);
  EXPECT_NE(error_of("c,d,2\n\"open,b,1\nmore\n").find(":3: unterminated quoted field"), std::string::npos);
  EXPECT_NE(error_of("\"multi\nline\",b,9\n").find(":2: score 9 outside [0, 5]"), std::string::npos);
  // A malformed first row is an error, not a header.
  EXPECT_NE(load_error(write_temp("bad1.csv", "a,b,3.x\n"), "csv").find(":1: score '3.x' is not a number"),
            std::string::npos);
  EXPECT_NE(load_error(write_temp("bad2.csv", "a,b,NaN\n"), "csv").find(":1: score 'NaN' is not a number"),
            std::string::npos);
}

// Found by fuzzing (tests/fuzz/sts_pairs_fuzz.cpp): a quoted multi-line field quoted back in the
// message made it two lines; the CLI prints errors as one.
TEST_F(StsPairs, LineBreaksQuotedInAnErrorAreEscaped) {
  const auto path = write_temp("multi.csv", "sen,,\"multi\nline\",1\n");
  EXPECT_EQ(load_error(path, "csv"), path + ":1: score 'multi\\nline' is not a number");
}

TEST_F(StsPairs, SickFindsColumnsByNameFiltersSplitAndHandlesCrlf) {
  const std::string text =
      "pair_ID\tsentence_A\tsentence_B\tentailment_label\trelatedness_score\tSemEval_set\r\n"
      "1\tA group of kids is playing in a yard\tA group of boys is playing\tNEUTRAL\t4.5\tTRAIN\r\n"
      "2\tA man is \"singing\"\tNobody sings\tCONTRADICTION\t3.6\tTEST\r\n"
      "3\tA woman is dancing\tA woman dances\tENTAILMENT\t5\tTRIAL\r\n"
      "4\tA cat sits\tA car drives\tNEUTRAL\t1\tTRAIN\r\n";
  const auto path = write_temp("SICK.txt", text);
  EXPECT_EQ(detect_sts_format(path), "sick");
  const auto all = load_sts_pairs(path, "sick", 1, 5);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].s1, "A man is \"singing\"");
  EXPECT_EQ(all[1].s2, "Nobody sings");  // no '\r' left over
  EXPECT_DOUBLE_EQ(all[1].score, 3.6);
  const auto train = load_sts_pairs(path, "auto", 1, 5, "TRAIN");
  ASSERT_EQ(train.size(), 2u);
  EXPECT_EQ(train[1].s1, "A cat sits");
  EXPECT_EQ(load_sts_pairs(path, "sick", 1, 5, "TEST").size(), 1u);
  EXPECT_EQ(load_error(path, "sick", 1, 5, "VALID"), path + ": no sentence pairs in split VALID");

  const auto no_score = write_temp("nosc.txt", "pair_ID\tsentence_A\tsentence_B\n1\ta\tb\n");
  EXPECT_EQ(load_error(no_score, "sick", 1, 5), no_score + ":1: missing column 'relatedness_score' in the header");
  const auto no_set = write_temp("noset.txt", "sentence_A\tsentence_B\trelatedness_score\r\na\tb\t2\r\n");
  EXPECT_EQ(load_sts_pairs(no_set, "sick", 1, 5).size(), 1u);
  EXPECT_NE(load_error(no_set, "sick", 1, 5, "TRAIN").find(":1: missing column 'SemEval_set'"), std::string::npos);
  const auto short_row = write_temp("short.txt", text + "5\tonly a\r\n");
  EXPECT_NE(load_error(short_row, "sick", 1, 5).find(short_row + ":6: expected at least 5 TAB-separated fields, found 2"),
            std::string::npos);
  const auto low = write_temp("low.txt", text + "5\ta\tb\tNEUTRAL\t0.5\tTRAIN\r\n");
  EXPECT_NE(load_error(low, "sick", 1, 5, "TEST").find(":6: score 0.5 outside [1, 5]"), std::string::npos);
}

TEST_F(StsPairs, JsonLines) {
  const auto path = write_temp("d.jsonl",
                               "{\"s1\": \"A \\\"quoted\\\" word\", \"s2\": \"caf\\u00e9\", \"score\": 2.5, \"id\": 7}\n"
                               "\n"
                               "{\"score\": 4, \"s2\": \"b\", \"s1\": \"a\"}\r\n");
  EXPECT_EQ(detect_sts_format(path), "jsonl");
  const auto pairs = load_sts_pairs(path, "auto", 0, 5);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].s1, "A \"quoted\" word");
  EXPECT_EQ(pairs[0].s2, "caf\xC3\xA9");
  EXPECT_DOUBLE_EQ(pairs[0].score, 2.5);
  EXPECT_DOUBLE_EQ(pairs[1].score, 4.0);

  const std::string ok = "{\"s1\": \"a\", \"s2\": \"b\", \"score\": 1}\n";
  auto error_of = [&](const std::string& line) { return load_error(write_temp("bad.jsonl", ok + line), "jsonl"); };
  EXPECT_NE(error_of("{\"s1\": \"a\", \"s2\": \"b\"\n").find(":2: invalid JSON"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]\n").find(":2: expected a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{\"s1\": \"a\", \"s2\": \"b\"}\n").find(":2: missing key 'score'"), std::string::npos);
  EXPECT_NE(error_of("{\"s1\": \"a\", \"s2\": \"b\", \"score\": \"3\"}\n").find(":2: 'score' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of("{\"s1\": 1, \"s2\": \"b\", \"score\": 3}\n").find(":2: 's1' and 's2' must be strings"),
            std::string::npos);
  EXPECT_NE(error_of("{\"s1\": \"a\", \"s2\": \"b\", \"score\": 7}\n").find(":2: score 7 outside"), std::string::npos);
  EXPECT_NE(error_of("{\"s1\": \"\\xff\", \"s2\": \"b\", \"score\": 3}\n").find(":2: invalid JSON"),
            std::string::npos);
  EXPECT_NE(error_of("{\"s1\": \"\xff\", \"s2\": \"b\", \"score\": 3}\n").find(":2: invalid UTF-8"),
            std::string::npos);
}

// The real STS-B copy in ../shared (see SOURCE.md): row counts, score range, and the release TSV
// and the stsb-multi-mt CSV giving identical pairs.
TEST_F(StsPairs, RealStsBenchmarkFiles) {
  const std::string root = ZOO_SOURCE_DIR "/../shared/data/stsb/";
  for (const auto& [split, rows] : std::vector<std::pair<std::string, size_t>>{{"train", 5749}, {"dev", 1500}}) {
    const std::string tsv = root + "original/sts-" + split + ".csv";
    const std::string csv = root + "multi_mt_en/stsb-en-" + split + ".csv";
    if (!std::filesystem::exists(tsv) || !std::filesystem::exists(csv))
      GTEST_SKIP() << "STS-B files not found (" << tsv << ", " << csv << "); see ../shared/data/stsb/SOURCE.md";
    EXPECT_EQ(detect_sts_format(tsv), "stsb");
    EXPECT_EQ(detect_sts_format(csv), "csv");
    const auto a = load_sts_pairs(tsv, "auto", 0, 5);
    const auto b = load_sts_pairs(csv, "auto", 0, 5);
    ASSERT_EQ(a.size(), rows) << tsv;
    ASSERT_EQ(b.size(), rows) << csv;
    double lo = 5, hi = 0;
    for (size_t i = 0; i < rows; ++i) {
      ASSERT_EQ(a[i].s1, b[i].s1) << split << " row " << i + 1;
      ASSERT_EQ(a[i].s2, b[i].s2) << split << " row " << i + 1;
      ASSERT_EQ(a[i].score, b[i].score) << split << " row " << i + 1;
      lo = std::min(lo, a[i].score);
      hi = std::max(hi, a[i].score);
    }
    EXPECT_EQ(lo, 0.0);
    EXPECT_EQ(hi, 5.0);
  }
}

// Content words of a generated sentence (articles, auxiliaries and prepositions dropped).
std::set<std::string> content_words(const std::string& s) {
  static const std::set<std::string> stop = {"a", "an", "the", "is", "being", "by", ",", ".", "in", "on", "at", "young"};
  std::set<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;)
    if (!stop.count(w)) words.insert(w);
  return words;
}

TEST_F(StsPairs, SyntheticPairsAreDeterministicGradedAndTrackOverlap) {
  const auto a = synthetic_sts_pairs(2000, 7);
  const auto b = synthetic_sts_pairs(2000, 7);
  const auto prefix = synthetic_sts_pairs(100, 7);
  const auto other = synthetic_sts_pairs(100, 8);
  ASSERT_EQ(a.size(), 2000u);
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].s1, b[i].s1);
    ASSERT_EQ(a[i].s2, b[i].s2);
    ASSERT_EQ(a[i].score, b[i].score);
    if (i < prefix.size()) {
      EXPECT_EQ(a[i].s1, prefix[i].s1);  // pair i depends on (seed, i) only
      differ += a[i].s1 != other[i].s1 || a[i].s2 != other[i].s2;
    }
  }
  EXPECT_GT(differ, 50);

  std::vector<int> bins(5, 0);
  std::set<std::string> vocabulary;
  int fractional = 0, paraphrases = 0;
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (const auto& p : a) {
    ASSERT_GE(p.score, 0.0);
    ASSERT_LE(p.score, 5.0);
    ASSERT_FALSE(p.s1.empty());
    if (p.s1 == p.s2) {
      EXPECT_EQ(p.score, 5.0) << p.s1;
    }
    if (p.score == 5.0 && p.s1 != p.s2) ++paraphrases;  // same scene, other words or order
    fractional += p.score != std::floor(p.score);
    ++bins[static_cast<size_t>(std::min(4.0, std::floor(p.score)))];
    for (const auto& s : {p.s1, p.s2}) {
      std::istringstream in(s);
      for (std::string w; in >> w;) vocabulary.insert(w);
    }
    // Jaccard overlap of content words against the score.
    const auto w1 = content_words(p.s1), w2 = content_words(p.s2);
    size_t common = 0;
    for (const auto& w : w1) common += w2.count(w);
    const double x = static_cast<double>(common) / static_cast<double>(w1.size() + w2.size() - common);
    sx += x, sy += p.score, sxx += x * x, syy += p.score * p.score, sxy += x * p.score;
  }
  for (size_t k = 0; k < bins.size(); ++k) EXPECT_GT(bins[k], 150) << "scores in [" << k << ", " << k + 1 << ")";
  EXPECT_GT(fractional, 500);
  EXPECT_GT(paraphrases, 50);
  EXPECT_LT(vocabulary.size(), 120u);  // a small world: learnable by a small model quickly
  const double n = static_cast<double>(a.size());
  const double r = (sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
  EXPECT_GT(r, 0.7) << "the score should track the shared content";
}

}  // namespace
}  // namespace zoo
