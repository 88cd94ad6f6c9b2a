// Reads "sentence A<TAB>sentence B" lines from stdin and prints each pair's similarity score.
// Usage: sts_score EXPORT_DIR < pairs.tsv
//
// The fast path: many pairs per score() call. The predictor runs them in chunks of similar
// length (each chunk is padded to its longest pair) and returns the scores in input order; a
// call per pair pays the model's fixed cost per pair instead. Lines are read in blocks of 256, so
// output still follows input on a long stream.
#include <zoo/infer/predictors.h>

#include <iostream>
#include <string>
#include <utility>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " EXPORT_DIR < pairs.tsv\n";
    return 2;
  }
  try {
    const zoo::infer::SentenceSimilarity model(argv[1]);
    std::vector<std::string> lines;
    std::vector<std::pair<std::string, std::string>> pairs;
    const auto flush = [&] {
      const std::vector<double> scores = model.score(pairs);
      for (size_t i = 0; i < scores.size(); ++i) std::cout << scores[i] << "\t" << lines[i] << "\n";
      lines.clear(), pairs.clear();
    };
    std::string line;
    for (int number = 1; std::getline(std::cin, line); ++number) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) {
        std::cerr << "stdin:" << number << ": expected two sentences separated by a tab\n";
        return 1;
      }
      pairs.emplace_back(line.substr(0, tab), line.substr(tab + 1));
      lines.push_back(line);
      if (pairs.size() == 256) flush();
    }
    flush();
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
