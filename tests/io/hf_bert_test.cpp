#include "io/formats/hf_bert.h"
#include "io/formats/bert_script.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "io/error.h"
#include "io/json_file.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

const std::string kPython = "/usr/bin/python3";
const std::string kScript = std::string(ZOO_SOURCE_DIR) + "/tests/python/bert_reference.py";

// A fresh directory per test, removed afterwards (parameterised tests' too).
class BertIoTest : public testing::ScratchDirTest {
 protected:
  std::string path(const std::string& name) const { return temp_path(name); }
  const fs::path dir_ = scratch_.path();
};

BertConfig tiny_config() {
  BertConfig c;
  c.vocab_size = 37;
  c.hidden_size = 16;
  c.num_layers = 2;
  c.num_heads = 4;
  c.intermediate_size = 24;
  c.max_position = 20;
  c.layer_norm_eps = 1e-7;
  return c;
}

// Runs a command quietly; true on exit status 0. Output goes to a log the failure message shows.
bool run(const std::string& command, const std::string& log) {
  return std::system((command + " >" + log + " 2>&1").c_str()) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool python_has_torch() {
  static const bool ok = std::system((kPython + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

// LibTorch's own writer; its output is what a C++-only tool would hand us.
void write_pickled_dict(const std::string& path, const c10::Dict<std::string, at::Tensor>& dict) {
  const auto bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Inputs {
  torch::Tensor ids, mask, types;
};

Inputs read_inputs(const std::string& path) {
  const auto d = read_torch_tensor_dict(path);
  return {d.at("input_ids"), d.at("attention_mask"), d.at("token_type_ids")};
}

Inputs padded_inputs(const BertConfig& c) {
  torch::manual_seed(11);
  auto ids = torch::randint(1, c.vocab_size, {2, 9}, torch::kLong);
  auto mask = torch::ones({2, 9}, torch::kLong);
  mask.slice(1, 6).select(0, 1).zero_();
  ids.masked_fill_(mask == 0, c.pad_token_id);
  auto types = torch::zeros({2, 9}, torch::kLong);
  types.slice(1, 3, 6).fill_(1);
  return {ids, mask, types};
}

void write_inputs(const std::string& path, const Inputs& in) {
  write_torch_tensor_dict(
      path, {{"input_ids", in.ids}, {"attention_mask", in.mask}, {"token_type_ids", in.types}});
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

void expect_same_parameters(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

// Expects `fn` to throw a UserError whose message contains every one of `parts`.
template <typename Fn>
void expect_user_error(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    for (const auto& part : parts) EXPECT_NE(what.find(part), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

TEST_F(BertIoTest, ConfigRoundTripAndErrors) {
  auto c = tiny_config();
  c.pad_token_id = 2;
  c.hidden_dropout = 0.25;
  write_hf_bert_config(path("config.json"), c);
  const auto j = read_json_file(path("config.json"));
  EXPECT_EQ(j.at("model_type"), "bert");
  EXPECT_EQ(j.at("architectures"), Json::array({"BertForMaskedLM"}));
  EXPECT_EQ(j.at("hidden_act"), "gelu");
  const auto r = read_hf_bert_config(path("config.json"));
  EXPECT_EQ(r.vocab_size, c.vocab_size);
  EXPECT_EQ(r.hidden_size, c.hidden_size);
  EXPECT_EQ(r.num_layers, c.num_layers);
  EXPECT_EQ(r.num_heads, c.num_heads);
  EXPECT_EQ(r.intermediate_size, c.intermediate_size);
  EXPECT_EQ(r.max_position, c.max_position);
  EXPECT_EQ(r.type_vocab_size, c.type_vocab_size);
  EXPECT_EQ(r.hidden_dropout, c.hidden_dropout);
  EXPECT_EQ(r.attention_dropout, c.attention_dropout);
  EXPECT_EQ(r.layer_norm_eps, c.layer_norm_eps);
  EXPECT_EQ(r.initializer_range, c.initializer_range);
  EXPECT_EQ(r.pad_token_id, 2);

  Json bad = j;
  bad["hidden_act"] = "relu";
  write_json_file(path("relu.json"), bad);
  expect_user_error([&] { read_hf_bert_config(path("relu.json")); },
                    {path("relu.json"), "hidden_act", "relu"});
  bad = j;
  bad["hidden_size"] = "big";
  write_json_file(path("type.json"), bad);
  expect_user_error([&] { read_hf_bert_config(path("type.json")); },
                    {path("type.json"), "hidden_size"});
  bad = j;
  bad["num_attention_heads"] = 5;
  write_json_file(path("heads.json"), bad);
  expect_user_error([&] { read_hf_bert_config(path("heads.json")); },
                    {path("heads.json"), "multiple"});
  // Absurd architectures (issue 29): refused from the config, naming the key, before anything
  // is allocated or LibTorch's own message (or a NaN at step 1) is reached.
  const std::vector<std::pair<Json, std::string>> absurd = {
      // 100000 x (4 x 768^2 + 2 x 768 x 3072) = 707,788.8 M, plus 0.05 M of embeddings.
      {{{"num_hidden_layers", 100000}, {"hidden_size", 768}, {"intermediate_size", 3072}},
       "describes a model of ~707788 M parameters (vocab_size, hidden_size, num_hidden_layers"},
      {{{"max_position_embeddings", int64_t{1000000000000}}}, "over the limit of 4000 M"},
      {{{"intermediate_size", int64_t{10000000000}}}, "over the limit of 4000 M"},
      {{{"hidden_dropout_prob", 1.5}}, "'hidden_dropout_prob' must be in [0, 1), got 1.5"},
      {{{"attention_probs_dropout_prob", -0.1}}, "'attention_probs_dropout_prob' must be in [0, 1), got -0.1"},
      {{{"layer_norm_eps", -1}}, "'layer_norm_eps' must be in (0, 1), got -1.0"},
      {{{"pad_token_id", 1000}}, "'pad_token_id' 1000 is not below vocab_size"}};
  for (const auto& [change, expected] : absurd) {
    bad = j;
    bad.update(change);
    write_json_file(path("absurd.json"), bad);
    expect_user_error([&] { read_hf_bert_config(path("absurd.json")); }, {path("absurd.json"), expected});
  }
}

TEST_F(BertIoTest, SaveLoadRoundTripKeepsTying) {
  const auto c = tiny_config();
  torch::manual_seed(1);
  BertForMaskedLM saved(c);
  {
    torch::NoGradGuard no_grad;
    saved->decoder_bias.normal_();  // non-zero so it is really round-tripped
  }
  save_hf_bert_weights(path("w.bin"), *saved);
  EXPECT_FALSE(fs::exists(path("w.bin.tmp")));
  torch::manual_seed(2);
  BertForMaskedLM loaded(c);
  load_hf_bert_weights(path("w.bin"), *loaded);
  expect_same_parameters(*saved, *loaded);
  EXPECT_EQ(loaded->decoder_weight().data_ptr(),
            loaded->bert->embeddings->word_embeddings->weight.data_ptr());

  // The file has HF's names, tied entries included.
  const auto dict = read_torch_tensor_dict(path("w.bin"));
  EXPECT_EQ(dict.count("bert.encoder.layer.1.attention.self.query.weight"), 1u);
  EXPECT_EQ(dict.at("cls.predictions.decoder.weight").data_ptr(),
            dict.at("bert.embeddings.word_embeddings.weight").data_ptr())
      << "tied entries share one storage, as in HF's own files";
  EXPECT_TRUE(torch::equal(dict.at("cls.predictions.decoder.weight"),
                           saved->bert->embeddings->word_embeddings->weight));
  EXPECT_TRUE(torch::equal(dict.at("cls.predictions.decoder.bias"), saved->decoder_bias));

  // The encoder alone (with a pooler the checkpoint lacks: it keeps its initialisation).
  BertModel encoder(c, /*with_pooler=*/true);
  const auto pooler_before = encoder->pooler->weight.clone();
  load_hf_bert_weights(path("w.bin"), *encoder);
  for (const auto& item : saved->bert->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), encoder->named_parameters()[item.key()])) << item.key();
  EXPECT_TRUE(torch::equal(encoder->pooler->weight, pooler_before));
}

TEST_F(BertIoTest, AcceptsGammaBetaAndUnprefixedEncoderCheckpoints) {
  const auto c = tiny_config();
  torch::manual_seed(3);
  BertForMaskedLM source(c);
  save_hf_bert_weights(path("w.bin"), *source);
  const auto original = read_torch_tensor_dict(path("w.bin"));

  // An old TF-converted BertModel: no "bert." prefix, gamma/beta, a pooler, position_ids.
  c10::Dict<std::string, at::Tensor> old_style;
  for (const auto& [name, tensor] : original) {
    std::string key = name;
    if (key.rfind("bert.", 0) != 0) continue;
    key = key.substr(5);
    const auto ln = key.find("LayerNorm.");
    if (ln != std::string::npos)
      key = key.substr(0, ln) +
            (key.substr(ln + 10) == "weight" ? "LayerNorm.gamma" : "LayerNorm.beta");
    old_style.insert(key, tensor);
  }
  old_style.insert("pooler.dense.weight", torch::full({c.hidden_size, c.hidden_size}, 0.5));
  old_style.insert("pooler.dense.bias", torch::full({c.hidden_size}, 0.25));
  old_style.insert("embeddings.position_ids", torch::arange(c.max_position).unsqueeze(0));
  write_pickled_dict(path("old.bin"), old_style);

  BertModel encoder(c, /*with_pooler=*/true);
  load_hf_bert_weights(path("old.bin"), *encoder);
  for (const auto& item : source->bert->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), encoder->named_parameters()[item.key()])) << item.key();
  EXPECT_TRUE(
      torch::equal(encoder->pooler->weight, torch::full({c.hidden_size, c.hidden_size}, 0.5)));

  // Without a pooler of our own, the checkpoint's is ignored, as transformers does.
  BertModel no_pooler(c, /*with_pooler=*/false);
  load_hf_bert_weights(path("old.bin"), *no_pooler);
  // An encoder checkpoint has no MLM head: the encoder loads, the head keeps its initialisation
  // and the caller is told (false).
  torch::manual_seed(4);
  BertForMaskedLM mlm(c);
  const torch::Tensor fresh_transform = mlm->transform->weight.clone();
  EXPECT_FALSE(load_hf_bert_weights(path("old.bin"), *mlm));
  for (const auto& item : source->bert->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), mlm->bert->named_parameters()[item.key()])) << item.key();
  EXPECT_TRUE(torch::equal(mlm->transform->weight, fresh_transform));
  EXPECT_TRUE(load_hf_bert_weights(path("w.bin"), *mlm));
  // A head that is there but incomplete is an error, not a silent partial load.
  c10::Dict<std::string, at::Tensor> partial;
  for (const auto& [name, tensor] : original)
    if (name != "cls.predictions.transform.dense.weight") partial.insert(name, tensor);
  write_pickled_dict(path("partial.bin"), partial);
  expect_user_error([&] { load_hf_bert_weights(path("partial.bin"), *mlm); },
                    {path("partial.bin"), "missing key", "cls.predictions.transform.dense.weight"});
}

TEST_F(BertIoTest, BadCheckpointsAreUserErrorsNamingFileAndKey) {
  const auto c = tiny_config();
  BertForMaskedLM model(c);
  save_hf_bert_weights(path("w.bin"), *model);
  const auto original = read_torch_tensor_dict(path("w.bin"));
  const auto variant = [&](const std::string& name, const std::string& drop, const std::string& add,
                           const torch::Tensor& value) {
    std::map<std::string, torch::Tensor> d;
    for (const auto& [key, tensor] : original)
      if (key != drop) d.emplace(key, tensor);
    if (!add.empty()) d[add] = value;
    write_torch_tensor_dict(path(name), {d.begin(), d.end()});
    return path(name);
  };
  const std::string key = "bert.encoder.layer.1.output.dense.weight";
  BertForMaskedLM target(c);
  const auto before = target->bert->embeddings->word_embeddings->weight.clone();

  const auto missing = variant("missing.bin", key, "", {});
  expect_user_error([&] { load_hf_bert_weights(missing, *target); }, {missing, "missing", key});
  const auto unexpected =
      variant("unexpected.bin", "", "bert.encoder.layer.2.output.dense.weight", torch::zeros({2}));
  expect_user_error([&] { load_hf_bert_weights(unexpected, *target); },
                    {unexpected, "unexpected", "layer.2"});
  const auto shape = variant("shape.bin", "", key, torch::zeros({c.hidden_size, 3}));
  expect_user_error([&] { load_hf_bert_weights(shape, *target); }, {shape, key, "shape"});
  // Nothing was half-loaded by the failed attempts.
  EXPECT_TRUE(torch::equal(target->bert->embeddings->word_embeddings->weight, before));

  expect_user_error([&] { load_hf_bert_weights(path("absent.bin"), *target); },
                    {path("absent.bin")});
  std::ofstream(path("garbage.bin")) << "not a checkpoint";
  expect_user_error([&] { load_hf_bert_weights(path("garbage.bin"), *target); },
                    {path("garbage.bin")});
}

TEST_F(BertIoTest, ImportMatchesPythonReference) {
  if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch: Python parity skipped";
  ASSERT_TRUE(run(kPython + " " + kScript + " " + dir_.string(), path("log.txt")))
      << read_text(path("log.txt"));
  const auto c = read_hf_bert_config(path("config.json"));
  EXPECT_EQ(c.vocab_size, 53);
  // Python's OrderedDict state dict, with its tied entries sharing one storage.
  const auto dict = read_torch_tensor_dict(path("pytorch_model.bin"));
  EXPECT_EQ(dict.at("cls.predictions.decoder.weight").data_ptr(),
            dict.at("bert.embeddings.word_embeddings.weight").data_ptr());
  BertForMaskedLM model(c);
  load_hf_bert_weights(path("pytorch_model.bin"), *model);
  model->eval();
  const auto in = read_inputs(path("inputs.pt"));
  const auto expected = read_torch_tensor_dict(path("expected.pt")).at("logits");
  torch::NoGradGuard no_grad;
  const auto logits = model->forward(in.ids, in.mask, in.types);
  ASSERT_EQ(logits.sizes(), expected.sizes());
  EXPECT_LT(max_abs_diff(logits, expected), 1e-4);
}

class BertIoLayoutTest : public BertIoTest, public ::testing::WithParamInterface<bool> {};

// Post-LN (BERT) and pre-LN (norm_first) alike.
TEST_P(BertIoLayoutTest, ExportedWeightsAndTorchScriptMatchInCppAndPython) {
  auto c = tiny_config();
  c.norm_first = GetParam();
  torch::manual_seed(5);
  BertForMaskedLM model(c);
  {
    torch::NoGradGuard no_grad;  // move away from the init so every parameter matters
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  model->eval();
  const auto in = padded_inputs(c);
  torch::Tensor ours;
  {
    torch::NoGradGuard no_grad;
    ours = model->forward(in.ids, in.mask, in.types);
  }
  export_bert_mlm_torchscript(*model, path("model.pt"));
  EXPECT_FALSE(fs::exists(path("model.pt.tmp")));
  auto scripted = torch::jit::load(path("model.pt"));
  const auto cpp = scripted.forward({in.ids, in.mask, in.types}).toTensor();
  ASSERT_EQ(cpp.sizes(), ours.sizes());
  EXPECT_LT(max_abs_diff(cpp, ours), 1e-5);

  if (!python_has_torch()) GTEST_SKIP() << kPython << " cannot import torch: Python parity skipped";
  write_inputs(path("inputs.pt"), in);
  ASSERT_TRUE(run(kPython + " " + kScript + " run-torchscript " + path("model.pt") + " " +
                      path("inputs.pt") + " " + path("scripted.pt"),
                  path("log.txt")))
      << read_text(path("log.txt"));
  const auto python = read_torch_tensor_dict(path("scripted.pt")).at("logits");
  EXPECT_LT(max_abs_diff(python, ours), 1e-5);

  // Our HF-layout files, read by Python's torch.load and run through the reference forward.
  write_hf_bert_config(path("config.json"), c);
  save_hf_bert_weights(path("pytorch_model.bin"), *model);
  ASSERT_TRUE(run(kPython + " " + kScript + " forward " + path("config.json") + " " +
                      path("pytorch_model.bin") + " " + path("inputs.pt") + " " +
                      path("reference.pt"),
                  path("log.txt")))
      << read_text(path("log.txt"));
  const auto reference = read_torch_tensor_dict(path("reference.pt")).at("logits");
  EXPECT_LT(max_abs_diff(reference, ours), 1e-4);
  // And back: config.json carries the layout (zoo_norm_first only when true), the weights load.
  const auto back = read_hf_bert_config(path("config.json"));
  EXPECT_EQ(back.norm_first, c.norm_first);
  EXPECT_EQ(read_json_file(path("config.json")).contains("zoo_norm_first"), c.norm_first);
  BertForMaskedLM reloaded(back);
  load_hf_bert_weights(path("pytorch_model.bin"), *reloaded);
  reloaded->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(max_abs_diff(reloaded->forward(in.ids, in.mask, in.types), ours), 0.0);
}

INSTANTIATE_TEST_SUITE_P(Layouts, BertIoLayoutTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "PreLN" : "PostLN"; });

}  // namespace
}  // namespace zoo
