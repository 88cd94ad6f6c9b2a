#include "data/text_corpus.h"
#include "io/error.h"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "data/sampling.h"
#include "data/text_lines.h"

namespace zoo {

namespace {

// " = Title = " -> level 1, " = = Section = = " -> 2; 0 when the line is not a heading.
int heading_level(const std::string& line) {
  const size_t b = line.find_first_not_of(' ');
  const size_t e = line.find_last_not_of(" \r");
  if (b == std::string::npos || line[b] != '=' || line[e] != '=' || e - b < 2) return 0;
  int level = 0;
  for (size_t i = b; i < line.size() && (line[i] == '=' || line[i] == ' '); ++i) level += line[i] == '=';
  return level;
}

}  // namespace

std::vector<Document> read_text_documents(const std::string& path) {
  const std::vector<std::string> lines =
      read_lines(path, {/*check_utf8=*/true, /*max_line_bytes=*/kMaxTextLineBytes});
  // WikiText separates every paragraph by a blank line and articles by " = Title = " lines:
  // when a file has such titles they delimit documents; otherwise blank lines do.
  bool titled = false;
  for (const auto& line : lines) titled = titled || heading_level(line) == 1;
  std::vector<Document> docs(1);
  for (const auto& line : lines) {
    const int level = heading_level(line);
    const bool boundary = titled ? level == 1 : blank(line);
    if (boundary && !docs.back().empty()) docs.emplace_back();
    if (!blank(line) && level == 0) docs.back().push_back(line);
  }
  if (docs.back().empty()) docs.pop_back();
  if (docs.empty()) throw UserError(path + ": no text found");
  return docs;
}

namespace {

const std::vector<std::string> kNames = {
    "anna", "ben", "clara", "david", "emma", "frank", "grace", "henry", "iris", "jack",
    "kate", "leo", "maria", "nick", "olga", "peter", "rosa", "sam", "tina", "victor",
    "wendy", "xavier", "yara", "zack", "alice", "bob", "carol", "dan", "eva", "fred"};
const std::vector<std::string> kCities = {
    "paris", "lyon", "berlin", "munich", "rome", "milan", "madrid", "seville", "lisbon", "porto",
    "vienna", "prague", "warsaw", "krakow", "oslo", "bergen", "dublin", "cork", "athens", "sparta"};
const std::vector<std::string> kCountries = {"france",  "germany", "italy",  "spain",  "portugal",
                                             "austria", "czechia", "poland", "norway", "ireland",
                                             "greece"};
const std::vector<std::string> kJobs = {"teacher", "doctor", "baker", "farmer", "pilot",
                                        "painter", "nurse",  "driver", "cook",  "writer"};
const std::vector<std::string> kAnimals = {"dog", "cat", "cow", "duck", "horse", "sheep", "owl", "frog"};
const std::vector<std::string> kSounds = {"woof", "meow", "moo", "quack", "neigh", "baa", "hoot", "croak"};
const std::vector<std::string> kColours = {"red", "blue", "green", "yellow", "black", "white"};
const std::vector<std::string> kNumbers = {"one", "two",   "three", "four", "five",
                                           "six", "seven", "eight", "nine", "ten"};

// The fixed world: who lives where, does what and keeps which animal. Seeded by a constant so
// the facts are the same in every document of every run.
struct World {
  std::vector<size_t> city_of, job_of, animal_of, colour_of;
  World() {
    std::mt19937_64 rng(20261129);
    for (size_t i = 0; i < kNames.size(); ++i) {
      city_of.push_back(static_cast<size_t>(uniform_index(rng, static_cast<int64_t>(kCities.size()))));
      job_of.push_back(static_cast<size_t>(uniform_index(rng, static_cast<int64_t>(kJobs.size()))));
      animal_of.push_back(static_cast<size_t>(uniform_index(rng, static_cast<int64_t>(kAnimals.size()))));
      colour_of.push_back(static_cast<size_t>(uniform_index(rng, static_cast<int64_t>(kColours.size()))));
    }
  }
};

// Cities come in pairs per country (paris, lyon -> france; ...; athens, sparta -> greece).
const std::string& country_of_city(size_t city) { return kCountries[city / 2]; }

}  // namespace

std::vector<Document> embedded_corpus(int64_t num_documents, uint64_t seed) {
  static const World world;
  std::vector<Document> docs;
  for (int64_t d = 0; d < num_documents; ++d) {
    std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(d)));
    auto pick = [&](size_t n) { return static_cast<size_t>(uniform_index(rng, static_cast<int64_t>(n))); };
    const size_t p = pick(kNames.size());
    const std::string& name = kNames[p];
    const std::string pronoun = p % 2 == 0 ? "she" : "he";
    const std::string possessive = p % 2 == 0 ? "her" : "his";
    const size_t city = world.city_of[p];
    const std::string& animal = kAnimals[world.animal_of[p]];
    std::vector<std::string> sentences = {
        name + " lives in " + kCities[city] + " , a city in " + country_of_city(city) + " .",
        name + " works as a " + kJobs[world.job_of[p]] + " and " + pronoun + " likes the colour " +
            kColours[world.colour_of[p]] + " .",
        "every morning " + name + " feeds " + possessive + " " + animal + " and the " + animal +
            " says " + kSounds[world.animal_of[p]] + " .",
    };
    // Counting runs and number agreement: "three cats sleep" / "one cat sleeps".
    const size_t from = pick(6), len = 2 + pick(3);
    std::string count = pronoun + " counts from " + kNumbers[from] + " to " + kNumbers[from + len] + " :";
    for (size_t k = from; k <= from + len; ++k) count += " " + kNumbers[k];
    sentences.push_back(count + " .");
    const size_t n = pick(4), other = pick(kAnimals.size());
    sentences.push_back("in the garden " + kNumbers[n] + " " + kAnimals[other] + (n == 0 ? " sleeps" : "s sleep") +
                        " and " + (n == 0 ? "it says " : "they say ") + kSounds[other] + " .");
    const size_t visit = pick(kCities.size());
    sentences.push_back("last year " + name + " visited " + kCities[visit] + " in " +
                        country_of_city(visit) + " .");
    for (size_t i = sentences.size() - 1; i > 0; --i) std::swap(sentences[i], sentences[pick(i + 1)]);
    std::string paragraph;
    for (const auto& s : sentences) paragraph += (paragraph.empty() ? "" : " ") + s;
    docs.push_back({paragraph});
  }
  return docs;
}

std::vector<std::vector<int64_t>> pack_sequences(const std::vector<std::vector<int64_t>>& documents,
                                                 int64_t max_len, int64_t cls_id, int64_t sep_id,
                                                 int64_t min_tokens) {
  if (max_len < 3) throw std::invalid_argument("pack_sequences: max_len must be at least 3");
  const size_t body = static_cast<size_t>(max_len - 2);
  std::vector<std::vector<int64_t>> sequences;
  for (const auto& doc : documents) {
    for (size_t start = 0; start < doc.size(); start += body) {
      const size_t end = std::min(doc.size(), start + body);
      if (static_cast<int64_t>(end - start) < min_tokens) continue;
      std::vector<int64_t> seq{cls_id};
      seq.insert(seq.end(), doc.begin() + static_cast<std::ptrdiff_t>(start),
                 doc.begin() + static_cast<std::ptrdiff_t>(end));
      seq.push_back(sep_id);
      sequences.push_back(std::move(seq));
    }
  }
  return sequences;
}

std::vector<int64_t> encode_corpus_text(const WordPieceTokenizer& tokenizer, const std::string& text) {
  const Vocab& vocab = tokenizer.vocab();
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t unk = text.find("<unk>", start), mask = text.find("[MASK]", start);
    const size_t at = std::min(unk, mask);
    const auto piece = tokenizer.encode(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    ids.insert(ids.end(), piece.begin(), piece.end());
    if (at == std::string::npos) break;
    ids.push_back(at == unk ? vocab.unk_id : vocab.mask_id);
    start = at + (at == unk ? 5 : 6);
  }
  return ids;
}

}  // namespace zoo
