#pragma once
// A tiny sentence-transformers checkpoint and huggingface_hub's cache layout of it, shared by the
// cache tests of tests/train and tests/apps.
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "io/formats/hf_bert.h"
#include "models/bert.h"
#include "train/hf_checkpoint.h"  // write_pretrained_bert

namespace zoo::testing {

inline std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A tiny sentence-transformers checkpoint as our exporter writes it (mean pooling).
inline void write_tiny_model(const std::string& dir, bool normalize) {
  BertConfig c;
  c.vocab_size = 11, c.hidden_size = 8, c.num_layers = 1, c.num_heads = 2, c.intermediate_size = 16, c.max_position = 32;
  torch::manual_seed(0);
  BertModel encoder(c, /*with_pooler=*/false);
  TokenizerOptions tok;
  tok.strip_accents = 0;
  const Vocab vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "man", "plays", "##s", "guitar", "."});
  write_pretrained_bert(dir, c, "BertModel", hf_bert_state(*encoder), WordPieceTokenizer(vocab, tok), 20, "mean",
                        normalize);
}

// huggingface_hub's cache layout for the files of `model`: ROOT/models--zoo--tiny/blobs/<hash>
// holds the contents, snapshots/<rev>/<relative path> are relative links to them
// (../../blobs/<hash>, one more ../ per sub-folder), refs/main names the revision. Returns the
// snapshot folder, which is what a user passes (what snapshot_download returns).
inline std::string make_hf_cache(const std::string& model, const std::string& root) {
  namespace fs = std::filesystem;
  const fs::path repo = fs::path(root) / "models--zoo--tiny";
  const std::string rev = "0123456789abcdef0123456789abcdef01234567";
  const fs::path snapshot = repo / "snapshots" / rev;
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main") << rev;
  for (const auto& entry : fs::recursive_directory_iterator(model)) {
    if (!entry.is_regular_file()) continue;
    const fs::path rel = entry.path().lexically_relative(model);
    const std::string content = bytes_of(entry.path());
    const std::string hash = std::to_string(std::hash<std::string>{}(content + rel.string()));
    std::ofstream(repo / "blobs" / hash, std::ios::binary) << content;
    std::string up = "../../";
    for (auto it = rel.begin(); std::next(it) != rel.end(); ++it) up += "../";
    fs::create_directories((snapshot / rel).parent_path());
    fs::create_symlink(up + "blobs/" + hash, snapshot / rel);
  }
  return snapshot.string();
}

}  // namespace zoo::testing
