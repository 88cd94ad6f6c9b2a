#pragma once
// Text for masked-language modelling: plain-text files (one paragraph per line, blank lines
// between documents, WikiText " = Heading = " lines), the project's own generated corpus, and
// packing of token ids into [CLS] ... [SEP] sequences.
#include <cstdint>
#include <cstddef>
#include <string>
#include <vector>

#include "data/wordpiece.h"

namespace zoo {

using Document = std::vector<std::string>;  // paragraphs

// Longest line a text file may have (bytes): a file without line breaks is not a corpus.
constexpr size_t kMaxTextLineBytes = 1 << 20;

// Blank lines end a document; a top-level WikiText heading (" = Title = ") starts one and
// heading lines of any level are dropped. Throws naming the file (and line) when it cannot be
// read, a line is not UTF-8 or is longer than kMaxTextLineBytes.
std::vector<Document> read_text_documents(const std::string& path);

// A deterministic generated corpus with learnable regularities: a small fixed world of people,
// cities, countries, jobs and animals, described consistently across documents (so a masked
// country, animal sound, pronoun or number in a counting run is predictable from context).
std::vector<Document> embedded_corpus(int64_t num_documents, uint64_t seed);

// Cuts each document's ids into chunks of at most max_len - 2 tokens wrapped as [CLS] chunk
// [SEP] (no sequence spans two documents); chunks shorter than min_tokens are dropped.
std::vector<std::vector<int64_t>> pack_sequences(const std::vector<std::vector<int64_t>>& documents,
                                                 int64_t max_len, int64_t cls_id, int64_t sep_id,
                                                 int64_t min_tokens = 8);

// Token ids of text for the masked LM, without [CLS]/[SEP]: WikiText's "<unk>" and a literal
// "[MASK]" (how a user marks the positions to fill) become their special ids, the rest is
// WordPiece-tokenized. Training and zoo::infer::MaskedLM both use it.
std::vector<int64_t> encode_corpus_text(const WordPieceTokenizer& tokenizer, const std::string& text);

}  // namespace zoo
