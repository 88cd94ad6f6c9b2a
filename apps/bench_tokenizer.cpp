// bench_tokenizer [--vocab-size N] [--min-frequency N] [--runs N] FILE
// Trains a WordPiece vocabulary on FILE, then encodes the whole file single-threaded several
// times and prints one JSON line with the median throughput.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/command_options.h"
#include "data/vocab_trainer.h"
#include "data/wordpiece.h"

namespace {

struct Args {
  std::string file;
  int64_t vocab_size = 8192;
  int64_t min_frequency = 2;
  int runs = 5;
};

Args parse_args(int argc, char** argv) {
  auto o = zoo::command_options("bench_tokenizer", "WordPiece training and single-threaded encoding speed");
  o.add_options()("vocab-size", "vocabulary size", cxxopts::value<int64_t>()->default_value("8192"))(
      "min-frequency", "least count of a learned piece", cxxopts::value<int64_t>()->default_value("2"))(
      "runs", "timed encodings of the file", cxxopts::value<int>()->default_value("5"))(
      "file", "UTF-8 text file", cxxopts::value<std::string>());
  o.parse_positional({"file"});
  o.positional_help("FILE");
  const auto parsed = zoo::parse_command_line(o, argc, argv);
  Args args;
  if (!parsed.count("file")) throw std::runtime_error("usage: bench_tokenizer [--vocab-size N] FILE");
  args.file = parsed["file"].as<std::string>();
  args.vocab_size = parsed["vocab-size"].as<int64_t>();
  args.min_frequency = parsed["min-frequency"].as<int64_t>();
  args.runs = parsed["runs"].as<int>();
  if (args.runs < 1) throw std::runtime_error("--runs must be >= 1");
  return args;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const Args& args) {
  const std::string text = read_file(args.file);

  zoo::VocabTrainerOptions options;
  options.vocab_size = args.vocab_size;
  options.min_frequency = args.min_frequency;
  auto t0 = std::chrono::steady_clock::now();
  zoo::Vocab vocab = zoo::train_wordpiece_vocab(split_lines(text), options);
  const double train_s = seconds_since(t0);
  const int64_t vocab_size = vocab.size();
  const zoo::WordPieceTokenizer tokenizer(std::move(vocab), options.tokenizer);

  std::vector<double> times;
  std::vector<int64_t> ids;
  for (int r = 0; r < args.runs; ++r) {
    t0 = std::chrono::steady_clock::now();
    ids = tokenizer.encode(text);
    times.push_back(seconds_since(t0));
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const auto unk = std::count(ids.begin(), ids.end(), tokenizer.vocab().unk_id);
  const double mb = static_cast<double>(text.size()) / 1e6;

  std::printf(
      "{\"file\": %s, \"bytes\": %zu, \"vocab_size\": %lld, \"vocab_train_s\": %.3f, "
      "\"runs\": %d, \"median_s\": %.4f, \"mb_per_s\": %.2f, \"tokens\": %zu, "
      "\"unk_fraction\": %.6g}\n",
      json_string(args.file).c_str(), text.size(), static_cast<long long>(vocab_size), train_s,
      args.runs, median, mb / median, ids.size(),
      ids.empty() ? 0.0 : static_cast<double>(unk) / static_cast<double>(ids.size()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "bench_tokenizer: " << e.what() << "\n";
    return 1;
  }
}
