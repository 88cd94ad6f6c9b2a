// Reads "sentence A<TAB>sentence B" lines from stdin and prints each pair's similarity score.
// Usage: sts_score EXPORT_DIR < pairs.tsv
#include <zoo/infer/predictors.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " EXPORT_DIR < pairs.tsv\n";
    return 2;
  }
  try {
    const zoo::infer::SentenceSimilarity model(argv[1]);
    std::string line;
    for (int number = 1; std::getline(std::cin, line); ++number) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) {
        std::cerr << "stdin:" << number << ": expected two sentences separated by a tab\n";
        return 1;
      }
      std::cout << model.score(line.substr(0, tab), line.substr(tab + 1)) << "\t" << line << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
