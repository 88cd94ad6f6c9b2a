#include "io/formats/hf_bert.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "io/safetensors.h"
#include "io/error.h"
#include "io/json_text.h"
#include "io/json_file.h"
#include "io/json_text.h"

namespace zoo {
namespace {

// (HF state-dict name, our parameter) in HF order: the one place that knows the mapping.
void add_linear(NamedTensors& out, const std::string& name, const torch::nn::Linear& linear) {
  out.emplace_back(name + ".weight", linear->weight);
  out.emplace_back(name + ".bias", linear->bias);
}

void add_norm(NamedTensors& out, const std::string& name, const torch::nn::LayerNorm& norm) {
  out.emplace_back(name + ".weight", norm->weight);
  out.emplace_back(name + ".bias", norm->bias);
}

NamedTensors encoder_names(BertModelImpl& bert, const std::string& prefix) {
  NamedTensors out;
  const auto& e = *bert.embeddings;
  out.emplace_back(prefix + "embeddings.word_embeddings.weight", e.word_embeddings->weight);
  out.emplace_back(prefix + "embeddings.position_embeddings.weight", e.position_embeddings->weight);
  out.emplace_back(prefix + "embeddings.token_type_embeddings.weight",
                   e.token_type_embeddings->weight);
  add_norm(out, prefix + "embeddings.LayerNorm", e.layer_norm);
  for (size_t i = 0; i < bert.layers->size(); ++i) {
    const auto& l = *bert.layers->ptr<BertLayerImpl>(i);
    const std::string p = prefix + "encoder.layer." + std::to_string(i) + ".";
    add_linear(out, p + "attention.self.query", l.query);
    add_linear(out, p + "attention.self.key", l.key);
    add_linear(out, p + "attention.self.value", l.value);
    add_linear(out, p + "attention.output.dense", l.attention_output);
    add_norm(out, p + "attention.output.LayerNorm", l.attention_norm);
    add_linear(out, p + "intermediate.dense", l.intermediate);
    add_linear(out, p + "output.dense", l.output);
    add_norm(out, p + "output.LayerNorm", l.output_norm);
  }
  // Pre-LN's final LayerNorm has no Hugging Face BERT name: a name of ours in the same style.
  if (!bert.final_norm.is_empty()) add_norm(out, prefix + "encoder.final_layer_norm", bert.final_norm);
  if (!bert.pooler.is_empty()) add_linear(out, prefix + "pooler.dense", bert.pooler);
  return out;
}

// The MLM head; its decoder weight is the word-embedding matrix, named in encoder_names().
NamedTensors head_names(BertForMaskedLMImpl& model) {
  NamedTensors out;
  add_linear(out, "cls.predictions.transform.dense", model.transform);
  add_norm(out, "cls.predictions.transform.LayerNorm", model.transform_norm);
  out.emplace_back("cls.predictions.bias", model.decoder_bias);
  return out;
}

NamedTensors mlm_names(BertForMaskedLMImpl& model, const std::string& prefix = "bert.") {
  auto out = encoder_names(*model.bert, prefix);
  const auto head = head_names(model);
  out.insert(out.end(), head.begin(), head.end());
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Names a checkpoint may use for `name`: old TF conversions call LayerNorm's parameters
// gamma/beta, and the output bias also lives under the (tied) decoder.
std::vector<std::string> aliases(const std::string& name) {
  std::vector<std::string> out{name};
  if (ends_with(name, "LayerNorm.weight")) out.push_back(name.substr(0, name.size() - 6) + "gamma");
  if (ends_with(name, "LayerNorm.bias")) out.push_back(name.substr(0, name.size() - 4) + "beta");
  if (name == "cls.predictions.bias") out.push_back("cls.predictions.decoder.bias");
  return out;
}

// Resolves and checks every target before copying any, so a bad file leaves the model untouched.
void load_into(const std::string& path, const std::map<std::string, torch::Tensor>& dict,
               const NamedTensors& targets, const std::set<std::string>& optional,
               const std::function<bool(const std::string&)>& ignorable) {
  std::set<std::string> used;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (ours, theirs)
  for (const auto& [name, param] : targets) {
    const auto names = aliases(name);
    auto found = dict.end();
    for (const auto& alias : names)
      if ((found = dict.find(alias)) != dict.end()) break;
    if (found == dict.end()) {
      if (optional.count(name)) continue;
      throw UserError(path + ": missing key '" + name + "'");
    }
    if (!found->second.sizes().equals(param.sizes()))
      throw UserError(path + ": key '" + found->first + "' has shape " + c10::str(found->second.sizes()) +
                      ", the model expects " + c10::str(param.sizes()));
    // A NaN or infinity would pass every later check and surface as a NaN loss or score.
    if (found->second.is_floating_point() && !torch::isfinite(found->second).all().item<bool>())
      throw UserError(path + ": tensor '" + found->first + "' holds " +
                      std::to_string(torch::logical_not(torch::isfinite(found->second)).sum().item<int64_t>()) +
                      " NaN or infinite values");
    for (const auto& alias : names) used.insert(alias);
    copies.emplace_back(param, found->second);
  }
  for (const auto& [key, tensor] : dict)
    if (!used.count(key) && !ends_with(key, "position_ids") && !ignorable(key))
      throw UserError(path + ": unexpected key '" + key + "'");
  torch::NoGradGuard no_grad;
  for (auto& [ours, theirs] : copies) ours.copy_(theirs);
}

std::string encoder_prefix(const std::map<std::string, torch::Tensor>& dict) {
  for (const auto& entry : dict)
    if (starts_with(entry.first, "bert.")) return "bert.";
  return "";
}

// 10x BERT-large (340 M): far above any BERT we can train on a CPU, far below what the
// issue's num_hidden_layers 100000 or max_position_embeddings 1e12 would allocate.
constexpr double kMaxBertParameters = 4e9;

}  // namespace

BertConfig read_hf_bert_config(const std::string& path) {
  const Json j = read_json_file(path);
  if (!j.is_object()) throw UserError(path + ": a BERT config must be a JSON object");
  const auto get_int = [&](const char* key, int64_t fallback) -> int64_t {
    if (!j.contains(key)) return fallback;
    if (!j.at(key).is_number_integer())
      throw UserError(path + ": '" + key + "' must be an integer, got " + json_excerpt(j.at(key)));
    return j.at(key).get<int64_t>();
  };
  const auto get_double = [&](const char* key, double fallback) -> double {
    if (!j.contains(key)) return fallback;
    if (!j.at(key).is_number())
      throw UserError(path + ": '" + key + "' must be a number, got " + json_excerpt(j.at(key)));
    return j.at(key).get<double>();
  };
  const auto require_string = [&](const char* key, const char* only, const char* why) {
    if (j.contains(key) && !(j.at(key).is_string() && j.at(key).get<std::string>() == only))
      throw UserError(path + ": '" + key + "' is " + json_excerpt(j.at(key)) + ", only \"" + only +
                      "\" is supported (" + why + ")");
  };
  require_string("model_type", "bert", "BERT's layout; RoBERTa offsets its positions by the padding id");
  require_string("hidden_act", "gelu", "the exact erf GELU");
  require_string("position_embedding_type", "absolute", "learned absolute positions");

  // Absent keys take transformers' BertConfig defaults, not ours: that is what HF would load.
  BertConfig c;
  c.vocab_size = get_int("vocab_size", 30522);
  c.hidden_size = get_int("hidden_size", 768);
  c.num_layers = get_int("num_hidden_layers", 12);
  c.num_heads = get_int("num_attention_heads", 12);
  c.intermediate_size = get_int("intermediate_size", 3072);
  c.max_position = get_int("max_position_embeddings", 512);
  c.type_vocab_size = get_int("type_vocab_size", 2);
  c.hidden_dropout = get_double("hidden_dropout_prob", 0.1);
  c.attention_dropout = get_double("attention_probs_dropout_prob", 0.1);
  c.layer_norm_eps = get_double("layer_norm_eps", 1e-12);
  c.initializer_range = get_double("initializer_range", 0.02);
  if (j.contains("zoo_norm_first")) {
    if (!j.at("zoo_norm_first").is_boolean())
      throw UserError(path + ": 'zoo_norm_first' must be true or false, got " + json_excerpt(j.at("zoo_norm_first")));
    c.norm_first = j.at("zoo_norm_first").get<bool>();
  }
  // null means "no padding token": no embedding row is special.
  c.pad_token_id = j.contains("pad_token_id") && j.at("pad_token_id").is_null()
                       ? -1
                       : get_int("pad_token_id", 0);

  for (const auto& [key, value] : {std::pair<const char*, int64_t>{"vocab_size", c.vocab_size},
                                   {"hidden_size", c.hidden_size},
                                   {"num_hidden_layers", c.num_layers},
                                   {"num_attention_heads", c.num_heads},
                                   {"intermediate_size", c.intermediate_size},
                                   {"max_position_embeddings", c.max_position},
                                   {"type_vocab_size", c.type_vocab_size}})
    if (value <= 0) throw UserError(path + ": '" + key + "' must be positive");
  if (c.hidden_size % c.num_heads != 0)
    throw UserError(path + ": hidden_size " + std::to_string(c.hidden_size) +
                    " is not a multiple of num_attention_heads " + std::to_string(c.num_heads));
  // Values LibTorch would take and turn into its own message or a NaN at step 1.
  for (const auto& [key, p] : {std::pair<const char*, double>{"hidden_dropout_prob", c.hidden_dropout},
                               {"attention_probs_dropout_prob", c.attention_dropout}})
    if (!(p >= 0 && p < 1)) throw UserError(path + ": '" + key + "' must be in [0, 1), got " + json_excerpt(p));
  if (!(c.layer_norm_eps > 0 && c.layer_norm_eps < 1))
    throw UserError(path + ": 'layer_norm_eps' must be in (0, 1), got " + json_excerpt(c.layer_norm_eps));
  if (!(c.initializer_range >= 0 && c.initializer_range < 1))
    throw UserError(path + ": 'initializer_range' must be in [0, 1), got " + json_excerpt(c.initializer_range));
  if (c.pad_token_id >= c.vocab_size)
    throw UserError(path + ": 'pad_token_id' " + std::to_string(c.pad_token_id) + " is not below vocab_size " +
                    std::to_string(c.vocab_size));
  // The model's size before anything is allocated: embeddings, then per layer the attention's
  // four H x H projections and the feed-forward's two H x I ones (biases and norms are small).
  const double h = static_cast<double>(c.hidden_size), parameters =
      h * (static_cast<double>(c.vocab_size) + static_cast<double>(c.max_position) + static_cast<double>(c.type_vocab_size)) +
      static_cast<double>(c.num_layers) * (4 * h * h + 2 * h * static_cast<double>(c.intermediate_size));
  if (parameters > kMaxBertParameters)
    throw UserError(path + ": describes a model of ~" + std::to_string(static_cast<int64_t>(parameters / 1e6)) +
                    " M parameters (vocab_size, hidden_size, num_hidden_layers, intermediate_size, "
                    "max_position_embeddings), over the limit of " +
                    std::to_string(static_cast<int64_t>(kMaxBertParameters / 1e6)) + " M");
  return c;
}

void write_hf_bert_config(const std::string& path, const BertConfig& c, const std::string& architecture) {
  Json j = {{"architectures", {architecture}},
            {"model_type", "bert"},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"num_hidden_layers", c.num_layers},
            {"num_attention_heads", c.num_heads},
            {"intermediate_size", c.intermediate_size},
            {"hidden_act", "gelu"},
            {"hidden_dropout_prob", c.hidden_dropout},
            {"attention_probs_dropout_prob", c.attention_dropout},
            {"max_position_embeddings", c.max_position},
            {"type_vocab_size", c.type_vocab_size},
            {"initializer_range", c.initializer_range},
            {"layer_norm_eps", c.layer_norm_eps},
            {"position_embedding_type", "absolute"}};
  j["pad_token_id"] = c.pad_token_id >= 0 ? Json(c.pad_token_id) : Json(nullptr);
  // Our key: transformers ignores unknown keys and would run a pre-LN model as post-LN, so such a
  // model is never written where transformers looks (the export's hf/ folder); zoo reads it back.
  if (c.norm_first) j["zoo_norm_first"] = true;
  write_json_file(path, j);
}

bool load_hf_bert_weights(const std::string& path, BertForMaskedLMImpl& model) {
  const auto dict = read_weights_file(path);
  const std::string prefix = encoder_prefix(dict);
  const bool has_head = std::any_of(dict.begin(), dict.end(), [](const auto& entry) {
    return starts_with(entry.first, "cls.predictions.");
  });
  if (!has_head) {  // an encoder (BertModel, sentence-transformers): the head keeps its fresh init
    load_into(path, dict, encoder_names(*model.bert, prefix), {}, [&](const std::string& key) {
      return starts_with(key, prefix + "pooler.") || starts_with(key, "cls.seq_relationship.");
    });
    return false;
  }
  // Usually "bert."; without it the encoder names still resolve and the head is reported missing.
  const std::string decoder_weight = "cls.predictions.decoder.weight";
  const auto found = dict.find(decoder_weight);
  if (found != dict.end() && !found->second.sizes().equals(model.decoder_weight().sizes()))
    throw UserError(path + ": key '" + decoder_weight + "' has shape " + c10::str(found->second.sizes()) +
                    ", the model expects " + c10::str(model.decoder_weight().sizes()));
  load_into(path, dict, mlm_names(model, prefix), {}, [&](const std::string& key) {
    // The decoder weight is tied to the word embeddings, loaded above under their own name.
    return key == decoder_weight || starts_with(key, prefix + "pooler.") ||
           starts_with(key, "cls.seq_relationship.");
  });
  return true;
}

void load_hf_bert_weights(const std::string& path, BertModelImpl& encoder) {
  const auto dict = read_weights_file(path);
  const std::string prefix = encoder_prefix(dict);
  const bool has_pooler = !encoder.pooler.is_empty();
  load_into(
      path, dict, encoder_names(encoder, prefix),
      {prefix + "pooler.dense.weight", prefix + "pooler.dense.bias"}, [&](const std::string& key) {
        return starts_with(key, "cls.") || (!has_pooler && starts_with(key, prefix + "pooler."));
      });
}

std::vector<std::pair<std::string, torch::Tensor>> hf_bert_state(BertForMaskedLMImpl& model) { return mlm_names(model); }
std::vector<std::pair<std::string, torch::Tensor>> hf_bert_state(BertModelImpl& encoder, const std::string& prefix) {
  return encoder_names(encoder, prefix);
}

void save_hf_bert_weights(const std::string& path, BertForMaskedLMImpl& model) {
  auto entries = mlm_names(model);
  entries.emplace_back("cls.predictions.decoder.weight", model.decoder_weight());
  entries.emplace_back("cls.predictions.decoder.bias", model.decoder_bias);
  write_torch_tensor_dict(path, entries);
}

}  // namespace zoo
