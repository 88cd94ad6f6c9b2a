#include "train/hf_checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "io/atomic_file.h"
#include "io/json_text.h"
#include "io/safetensors.h"
#include "io/user_file.h"
#include "io/formats/hf_bert.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

// Something is at `path` (a FIFO or a directory is then refused by its reader, by what it is,
// rather than called missing).
bool present(const std::string& path) { return describe_path(path) != "missing"; }

const Json* member(const Json& j, const std::string& key) { return j.contains(key) ? &j.at(key) : nullptr; }

bool get_bool(const Json& j, const std::string& key, const std::string& path) {
  if (!j.at(key).is_boolean()) throw UserError(path + ": '" + key + "' must be true or false, got " + json_excerpt(j.at(key)));
  return j.at(key).get<bool>();
}

// sentence-transformers' module list as (type, path): a Transformer (the BERT files, at `path`
// below the directory), a Pooling and an optional Normalize, in that order; anything else
// (Dense, ...) is a model we cannot run.
std::vector<std::pair<std::string, std::string>> read_modules(const std::string& root) {
  const std::string modules_path = root + "/modules.json";
  const Json modules = read_json_file(modules_path);
  if (!modules.is_array() || modules.size() < 2 || modules.size() > 3)
    throw UserError(modules_path + ": expected a list of 2 or 3 modules (Transformer, Pooling, optionally Normalize)");
  const char* expected[] = {"sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                            "sentence_transformers.models.Normalize"};
  std::vector<std::pair<std::string, std::string>> out;
  for (const Json& m : modules) {
    const std::string where = modules_path + ": module " + std::to_string(out.size());
    if (!m.is_object() || !m.contains("type") || !m.at("type").is_string() || !m.contains("path") ||
        !m.at("path").is_string())
      throw UserError(where + ": needs string keys 'type' and 'path'");
    const std::string type = m.at("type").get<std::string>(), path = m.at("path").get<std::string>();
    if (type != expected[out.size()])
      throw UserError(where + ": 'type' is " + json_excerpt(type) + "; supported: Transformer, Pooling, then optionally Normalize");
    if (path.find("..") != std::string::npos || (!path.empty() && path[0] == '/'))
      throw UserError(where + ": 'path' must stay inside the checkpoint directory");
    // A module's folder may be a link (a cache keeps its files as links into a blob store), but
    // it must resolve inside the checkpoint: compared on resolved paths, not strings.
    std::error_code ec;
    const fs::path inside = fs::weakly_canonical(root, ec), target = fs::weakly_canonical(fs::path(root) / path, ec);
    if (ec || std::mismatch(inside.begin(), inside.end(), target.begin(), target.end()).first != inside.end())
      throw UserError(where + ": 'path' " + json_excerpt(path) + " resolves to " + target.string() +
                      ", outside the checkpoint directory");
    out.emplace_back(type, path.empty() ? root : root + "/" + path);
  }
  return out;
}

// Pooling, normalisation and sequence length of a sentence-transformers directory.
void read_sentence_transformers(const std::string& root, PretrainedBert& p) {
  const auto modules = read_modules(root);
  const std::string pooling_dir = modules[1].second;
  p.normalize = modules.size() == 3;
  const std::string pooling_path = pooling_dir + "/config.json";
  const Json pool = read_json_file(pooling_path);
  if (!pool.is_object()) throw UserError(pooling_path + ": expected a JSON object");
  // Exactly one mode may be on; the others must be off (or absent, in older files).
  const std::pair<const char*, const char*> modes[] = {{"pooling_mode_mean_tokens", "mean"},
                                                       {"pooling_mode_cls_token", "cls"},
                                                       {"pooling_mode_max_tokens", "max"}};
  for (const auto& [key, mode] : modes)
    if (member(pool, key) && get_bool(pool, key, pooling_path)) {
      if (!p.pooling.empty()) throw UserError(pooling_path + ": '" + key + "': only one pooling mode at a time is supported");
      p.pooling = mode;
    }
  for (const char* key : {"pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
    if (member(pool, key) && get_bool(pool, key, pooling_path))
      throw UserError(pooling_path + ": '" + key + "' is not supported (mean, cls or max)");
  if (p.pooling.empty()) throw UserError(pooling_path + ": no pooling mode is on (mean, cls or max)");
  if (const Json* dim = member(pool, "word_embedding_dimension");
      dim && !(dim->is_number_integer() && dim->get<int64_t>() == p.bert.hidden_size))
    throw UserError(pooling_path + ": 'word_embedding_dimension' is " + json_excerpt(*dim) + ", the encoder's hidden size is " +
                    std::to_string(p.bert.hidden_size));

  const std::string st_path = p.dir + "/sentence_bert_config.json";
  if (present(st_path)) {
    const Json st = read_json_file(st_path);
    if (!st.is_object()) throw UserError(st_path + ": expected a JSON object");
    if (const Json* n = member(st, "max_seq_length")) {
      if (!n->is_number_integer() || n->get<int64_t>() < 3)
        throw UserError(st_path + ": 'max_seq_length' must be an integer >= 3, got " + json_excerpt(*n));
      p.max_seq_length = n->get<int64_t>();
    }
    // Lower-casing the input before a cased tokenizer is not what our tokenizer's lower_case
    // does (that also strips accents), so only the uncased case is accepted.
    if (member(st, "do_lower_case") && get_bool(st, "do_lower_case", st_path) && p.lower_case == false)
      throw UserError(st_path + ": 'do_lower_case' true with a cased tokenizer is not supported");
  }
}

}  // namespace

PretrainedBert open_pretrained_bert(const std::string& dir, bool need_weights) {
  if (!fs::is_directory(dir)) throw UserError(dir + ": not a directory");
  PretrainedBert p;
  p.dir = dir;
  const bool sentence_transformers = present(dir + "/modules.json");
  if (sentence_transformers) p.dir = read_modules(dir)[0].second;
  const std::string config_path = p.dir + "/config.json";
  if (!present(config_path)) throw UserError(config_path + ": missing (a BERT checkpoint needs its config.json)");
  p.bert = read_hf_bert_config(config_path);
  for (const char* name : {"model.safetensors", "pytorch_model.bin", "weights.pt"})
    if (present(p.dir + "/" + name)) {
      p.weights_path = p.dir + "/" + name;
      break;
    }
  if (p.weights_path.empty() && need_weights)
    throw UserError(p.dir + ": no weights (model.safetensors, pytorch_model.bin or weights.pt)");
  p.vocab_path = p.dir + "/vocab.txt";
  if (!present(p.vocab_path)) throw UserError(p.vocab_path + ": missing (a WordPiece vocabulary is needed)");

  const std::string tok_path = p.dir + "/tokenizer_config.json";
  if (present(tok_path)) {
    const Json t = read_json_file(tok_path);
    if (!t.is_object()) throw UserError(tok_path + ": expected a JSON object");
    if (const Json* cls = member(t, "tokenizer_class");
        cls && !(cls->is_string() && (cls->get<std::string>() == "BertTokenizer" ||
                                      cls->get<std::string>() == "BertTokenizerFast")))
      throw UserError(tok_path + ": 'tokenizer_class' is " + json_excerpt(*cls) + ", only BERT's WordPiece is supported");
    if (member(t, "do_lower_case")) p.lower_case = get_bool(t, "do_lower_case", tok_path);
    if (member(t, "tokenize_chinese_chars")) p.tokenize_chinese_chars = get_bool(t, "tokenize_chinese_chars", tok_path);
    if (const Json* s = member(t, "strip_accents")) {
      if (!s->is_null() && !s->is_boolean())
        throw UserError(tok_path + ": 'strip_accents' must be null, true or false, got " + json_excerpt(*s));
      p.strip_accents = s->is_null() ? -1 : s->get<bool>() ? 1 : 0;
    }
    // transformers writes a huge placeholder (1e30) when a checkpoint sets no limit.
    if (const Json* n = member(t, "model_max_length"); n && n->is_number_integer() && n->get<int64_t>() > 0 &&
                                                        n->get<int64_t>() < (int64_t{1} << 40))
      p.model_max_length = n->get<int64_t>();
  }
  if (sentence_transformers) read_sentence_transformers(dir, p);
  return p;
}

PretrainedBert open_run_init_checkpoint(const std::string& dir, const std::string& run_dir, bool& load_weights) {
  const std::string copy = run_dir + "/init_checkpoint";
  load_weights = !run_has_checkpoint(run_dir);
  if (!load_weights && fs::is_directory(copy)) return open_pretrained_bert(copy, /*need_weights=*/false);
  PretrainedBert p = open_pretrained_bert(dir);
  if (run_dir.empty() || !load_weights) return p;
  // Settings are small: *.json and vocab.txt, two levels deep (sentence-transformers keeps the
  // pooling config in 1_Pooling/). Copied to a temporary folder renamed into place, each by its
  // own name below `dir`: in a huggingface_hub cache snapshot every file is a link into
  // ../../blobs/, and the copy holds the content under the link's name. A link is followed to a
  // regular file wherever it lies (read bounded, as every settings file); one to anything else
  // is refused. Nothing is written outside the run directory.
  const std::string tmp = copy + ".tmp";
  fs::remove_all(tmp);
  try {
    const fs::path root = fs::weakly_canonical(dir);
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink);
         it != fs::recursive_directory_iterator(); ++it) {
      const fs::path& from = it->path();
      if (it->is_directory()) {
        // A linked folder is followed only where it resolves inside the checkpoint.
        const fs::path target = fs::weakly_canonical(from);
        if (it.depth() >= 1 || std::mismatch(root.begin(), root.end(), target.begin(), target.end()).first != root.end())
          it.disable_recursion_pending();
        continue;
      }
      if (!(from.extension() == ".json" || from.filename() == "vocab.txt")) continue;
      const fs::path to = fs::path(tmp) / from.lexically_relative(dir);
      fs::create_directories(to.parent_path());
      atomic_write_text(to.string(), read_user_file(from.string(), kMaxSettingsFileBytes, "a checkpoint's settings file"));
    }
  } catch (...) {  // nothing half-made is left in the run
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::remove_all(copy);
  fs::rename(tmp, copy);
  return p;
}

TokenizerOptions pretrained_tokenizer_options(const PretrainedBert& p, const Config& cfg,
                                              const std::string& lower_case_key) {
  TokenizerOptions tok;
  tok.lower_case = cfg.at(lower_case_key).get<bool>();
  if (p.lower_case) {
    cfg.require(!cfg.is_set(lower_case_key) || tok.lower_case == *p.lower_case, lower_case_key,
                std::string("contradicts the checkpoint's tokenizer_config.json (do_lower_case: ") +
                    (*p.lower_case ? "true" : "false") + ")");
    tok.lower_case = *p.lower_case;
  }
  if (p.strip_accents) tok.strip_accents = *p.strip_accents;
  if (p.tokenize_chinese_chars) tok.tokenize_chinese_chars = *p.tokenize_chinese_chars;
  return tok;
}

std::unique_ptr<WordPieceTokenizer> pretrained_tokenizer(const PretrainedBert& p, const Config& cfg,
                                                         const std::string& lower_case_key) {
  auto tokenizer = std::make_unique<WordPieceTokenizer>(Vocab::load(p.vocab_path),
                                                        pretrained_tokenizer_options(p, cfg, lower_case_key));
  // An id past the embedding would end the first step in LibTorch's index error, naming nothing.
  // (Fewer tokens than rows is allowed: some checkpoints pad their embedding.)
  if (tokenizer->vocab().size() > p.bert.vocab_size)
    throw UserError(p.vocab_path + ": " + std::to_string(tokenizer->vocab().size()) + " tokens, but " + p.dir +
                    "/config.json's vocab_size is " + std::to_string(p.bert.vocab_size) +
                    " (the word embedding's rows): a vocab.txt of another model?");
  return tokenizer;
}

int64_t pretrained_max_seq_len(const PretrainedBert& p, const Config& cfg, const std::string& key) {
  int64_t limit = p.bert.max_position;
  if (p.model_max_length) limit = std::min(limit, *p.model_max_length);
  const int64_t value = cfg.at(key).get<int64_t>();
  if (cfg.is_set(key)) {
    cfg.require(value <= limit, key, "exceeds the checkpoint's limit of " + std::to_string(limit) + " tokens");
    return value;
  }
  return std::min(p.max_seq_length.value_or(value), limit);
}

void write_pretrained_bert(const std::string& dir, const BertConfig& config, const std::string& architecture,
                           const std::vector<std::pair<std::string, torch::Tensor>>& state,
                           const WordPieceTokenizer& tokenizer, int64_t max_seq_len, const std::string& st_pooling,
                           bool st_normalize) {
  if (config.norm_first)
    throw std::invalid_argument("write_pretrained_bert: " + dir + ": a pre-LN model has no transformers BERT layout");
  fs::create_directories(dir);
  write_hf_bert_config(dir + "/config.json", config, architecture);
  write_safetensors(dir + "/model.safetensors", state);
  tokenizer.vocab().save(dir + "/vocab.txt");
  const TokenizerOptions& o = tokenizer.options();
  const Json specials = {{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                         {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
  Json tok = specials;
  tok["tokenizer_class"] = "BertTokenizer";
  tok["do_lower_case"] = o.lower_case;
  tok["strip_accents"] = o.strip_accents < 0 ? Json(nullptr) : Json(o.strip_accents == 1);
  tok["tokenize_chinese_chars"] = o.tokenize_chinese_chars;
  tok["model_max_length"] = max_seq_len;
  write_json_file(dir + "/tokenizer_config.json", tok);
  write_json_file(dir + "/special_tokens_map.json", specials);
  if (st_pooling.empty()) return;
  Json modules = Json::array({{{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
                              {{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}}});
  if (st_normalize)
    modules.push_back({{"idx", 2}, {"name", "2"}, {"path", "2_Normalize"}, {"type", "sentence_transformers.models.Normalize"}});
  write_json_file(dir + "/modules.json", modules);
  fs::create_directories(dir + "/1_Pooling");
  write_json_file(dir + "/1_Pooling/config.json", {{"word_embedding_dimension", config.hidden_size},
                                                   {"pooling_mode_cls_token", st_pooling == "cls"},
                                                   {"pooling_mode_mean_tokens", st_pooling == "mean"},
                                                   {"pooling_mode_max_tokens", st_pooling == "max"},
                                                   {"pooling_mode_mean_sqrt_len_tokens", false}});
  // do_lower_case here would lower-case the input before the tokenizer; ours does that itself.
  write_json_file(dir + "/sentence_bert_config.json", {{"max_seq_length", max_seq_len}, {"do_lower_case", false}});
}

}  // namespace zoo
