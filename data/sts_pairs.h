#pragma once
// Sentence pairs with a graded similarity score (STS Benchmark, SICK relatedness and similar),
// read from the common file formats, plus a generated data set for quick runs and tests.
//
// Every loader is strict: a row that cannot be read fully is an error, never silently dropped,
// because a skipped or misparsed row shifts the correlation metrics without any visible symptom.
#include <cstdint>
#include <string>
#include <vector>

namespace zoo {

struct SentencePair {
  std::string s1, s2;
  double score = 0.0;  // gold similarity, on the data set's own scale (STS-B 0..5, SICK 1..5)
};

// Reads all pairs of a file, in file order. Formats:
//   "stsb"  STS Benchmark release files (original/sts-*.csv; TSV despite the name): no header,
//           fields genre, file, year, id, score, sentence1, sentence2 [, extra fields ignored].
//           Split on TAB only, no quote handling: sentences contain literal '"'.
//   "csv"   sentence1,sentence2,score with RFC-4180 quoting ("" inside a quoted field is one
//           '"'; a quoted field may span lines). Fields after the third are ignored. An optional
//           header is recognised when the first row's third field is a name such as
//           "similarity_score" rather than a number (the stsb-multi-mt files have none).
//   "sick"  SICK: TAB-separated with a header; the columns sentence_A, sentence_B,
//           relatedness_score (and SemEval_set when `sick_split` is given) are found by name.
//   "jsonl" one JSON object per line: {"s1": "...", "s2": "...", "score": number}; other keys
//           are ignored.
//   "auto"  detect_sts_format(path).
// In all formats: a UTF-8 byte-order mark is skipped, CRLF and LF both end a line, blank lines
// are skipped, surrounding whitespace of sentences is trimmed (so the STS-B release and the
// stsb-multi-mt copy give identical pairs).
//
// `sick_split` keeps only the rows whose SemEval_set equals it (e.g. "TRAIN", "TRIAL", "TEST");
// empty keeps all rows. It is only valid with SICK (std::invalid_argument otherwise).
//
// Errors throw std::runtime_error "PATH:LINE: what is wrong" (LINE 1-based; for a multi-line CSV
// record the line it starts on): fewer fields than needed, an unparsable or non-finite score, a
// score outside [min_score, max_score], an empty sentence, invalid UTF-8, invalid JSON. A file
// that cannot be opened gives "PATH: cannot open"; a file without any pair (after the split
// filter) gives "PATH: no sentence pairs".
std::vector<SentencePair> load_sts_pairs(const std::string& path, const std::string& format,
                                         double min_score, double max_score,
                                         const std::string& sick_split = "");

// "stsb", "csv", "sick" or "jsonl", decided from the first non-blank line (the extension is no
// guide: the official STS-B files are TSV named .csv): '{' starts JSONL; a TAB-separated header
// naming sentence_A is SICK; a TAB-separated row of at least 7 fields with a number in the fifth
// is STS-B; anything else is read as CSV. Throws like load_sts_pairs when the file cannot be read.
std::string detect_sts_format(const std::string& path);

// A deterministic generated STS data set (scores 0..5) for quickstarts and tests, needing no
// download. Each sentence describes a scene "SUBJECT is VERB-ing OBJECT [PLACE]" from a small
// world (6 subjects, 5 activities with 4 objects each, 8 places, most with a synonym), written in
// one of three word orders (plain, place fronted, passive). Pair i is a function of (seed, i)
// only, so a longer set extends a shorter one.
//
// The gold score is 5 x (credit for what the two scenes share) / (weight of what they describe):
//   weights subject 1.5, verb 1.0, object 1.5, place 1.0 when both sentences give a place, 0.5
//   when only one does (a detail the other lacks, never shared), 0 when neither does;
//   a shared slot earns its weight; a different subject of the same kind (man/woman, boy/girl,
//   old man/old woman) or a different place of the same kind (indoor, green, street, water)
//   earns half; a different object of the same activity earns half (a different activity shares
//   neither verb nor object).
// So synonyms and word order never lower the score (same scene = 5), one differing detail gives
// 3.5..4.5 (a different activity 2.5), nothing shared gives 0, and most values are not integers
// (e.g. 4.25, 4.0625, 4.444...). Implemented in data/sts_synthetic.cpp.
std::vector<SentencePair> synthetic_sts_pairs(int64_t count, uint64_t seed);

}  // namespace zoo
