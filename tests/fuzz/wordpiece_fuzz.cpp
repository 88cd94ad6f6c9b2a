// libFuzzer target: WordPiece vocabularies and text. The input up to its first NUL byte is a
// vocab.txt (Vocab::load), the rest (or, without a NUL, all of it) is text for the tokenizer,
// which runs with a small fixed vocabulary and, when it loaded, the input's own. Loading returns a
// vocabulary or throws an error naming the file; tokenizing any bytes never fails and gives ids
// of the vocabulary that decode back without error.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "data/wordpiece.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

void tokenize(const zoo::Vocab& vocab, const std::string& text) {
  for (const bool lower : {true, false}) {
    zoo::TokenizerOptions options;
    options.lower_case = lower;
    const zoo::WordPieceTokenizer tokenizer(vocab, options);
    const auto ids = tokenizer.encode(text);
    for (const int64_t id : ids) zoo::fuzz::require(id >= 0 && id < vocab.size(), "ids are in the vocabulary");
    (void)tokenizer.decode(ids);
    zoo::fuzz::require(tokenizer.tokenize(text).size() == ids.size(), "tokenize and encode agree");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const zoo::Vocab fixed({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able",
                                 "a", "##b", "é", "##s", ".", ",", "!", "中", "ß", "ss"});
  const char* bytes = reinterpret_cast<const char*>(data);
  const void* nul = std::memchr(data, 0, size);
  const size_t vocab_size = nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - data) : size;
  const std::string text = nul ? std::string(bytes + vocab_size + 1, size - vocab_size - 1) : std::string(bytes, size);
  tokenize(fixed, text);
  const std::string path = zoo::fuzz::write_file("vocab.txt", data, vocab_size);
  try {
    const zoo::Vocab vocab = zoo::Vocab::load(path);
    zoo::fuzz::require(vocab.size() >= 5 && vocab.unk_id >= 0, "a loaded vocabulary has its special tokens");
    tokenize(vocab, text);
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, path);
  }
  return 0;
}
