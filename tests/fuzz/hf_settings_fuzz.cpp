// libFuzzer target: a published checkpoint's settings files as open_pretrained_bert reads them
// (train/hf_checkpoint.h): tokenizer_config.json, modules.json, 1_Pooling/config.json and
// sentence_bert_config.json. The input is cut at form feeds (\f) into those four files, in that
// order, beside a fixed valid config.json and vocab.txt; a missing part leaves its file absent.
// Any bytes give settings in their documented ranges, or a one-line UserError naming one of the
// four files (the Pooling config.json where modules.json puts it).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_util.h"
#include "train/hf_checkpoint.h"

namespace zoo {
// The one function of train/checkpoint.cpp that hf_checkpoint.cpp calls; that file links the
// trainer, which this target does not need (open_pretrained_bert never calls it).
bool run_has_checkpoint(const std::string& run_dir) { return !run_dir.empty(); }
}  // namespace zoo

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string text =
        R"({"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,)"
        R"( "intermediate_size": 16, "vocab_size": 6, "max_position_embeddings": 16})";
    const std::string config = zoo::fuzz::write_file("ckpt/config.json", text.data(), text.size());
    const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nword\n";
    zoo::fuzz::write_file("ckpt/vocab.txt", vocab.data(), vocab.size());
    return fs::path(config).parent_path().string();
  }();
  const char* names[] = {"tokenizer_config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"};
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t end = input.find('\f', start);
    parts.push_back(input.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (size_t i = 0; i < 4; ++i) {
    std::error_code ec;
    fs::remove(dir + "/" + names[i], ec);
    if (i < parts.size()) zoo::fuzz::write_file(std::string("ckpt/") + names[i], parts[i].data(), parts[i].size());
  }
  try {
    const zoo::PretrainedBert p = zoo::open_pretrained_bert(dir, /*need_weights=*/false);
    zoo::fuzz::require(p.pooling.empty() || p.pooling == "mean" || p.pooling == "cls" || p.pooling == "max",
                       "pooling is mean, cls or max");
    zoo::fuzz::require(!p.strip_accents || (*p.strip_accents >= -1 && *p.strip_accents <= 1), "strip_accents in -1..1");
    zoo::fuzz::require(!p.max_seq_length || *p.max_seq_length >= 3, "max_seq_length >= 3");
  } catch (const zoo::UserError& e) {
    const std::string what = e.what();
    bool named = false;
    for (const char* name : names) named = named || what.find(name) != std::string::npos;
    // modules.json may put the Pooling module elsewhere ("path": "p2"): then its config.json
    // there is the file read and named.
    named = named || what.find("/config.json") != std::string::npos;
    zoo::fuzz::require(named, "the message names one of the settings files");
    zoo::fuzz::check_message(e, dir);
    zoo::fuzz::require(what.size() < 2000, "the message is short");
  }
  return 0;
}
