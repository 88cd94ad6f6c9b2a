// libFuzzer target: any bytes as an MLM text corpus file (read_text_documents). A load returns
// documents of non-empty UTF-8 paragraphs or throws an error naming the file; it never crashes.
#include <cstddef>
#include <cstdint>

#include "data/text_corpus.h"
#include "data/utf8.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = zoo::fuzz::write_file("corpus.txt", data, size);
  try {
    const auto docs = zoo::read_text_documents(path);
    zoo::fuzz::require(!docs.empty(), "at least one document");
    for (const auto& doc : docs) {
      zoo::fuzz::require(!doc.empty(), "documents are not empty");
      for (const auto& paragraph : doc) {
        zoo::fuzz::require(!paragraph.empty() && zoo::valid_utf8(paragraph), "paragraphs are non-empty UTF-8");
        zoo::fuzz::require(paragraph.find('\n') == std::string::npos, "a paragraph is one line");
      }
    }
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, path);
  }
  return 0;
}
