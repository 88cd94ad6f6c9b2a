// Published BERT checkpoints in and out (train/hf_checkpoint.h): a checkpoint directory written
// by our exporter reads back with its settings; hostile or unsupported directories are one-line
// errors; and all-MiniLM-L6-v2 as published gives sentence-transformers' own ids, token
// embeddings and sentence embeddings (to 1e-5), computed by the Python library in the same test.
#include "train/hf_checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/safetensors.h"
#include "models/sts.h"
#include "tests/scratch_dir.h"
#include "io/formats/hf_bert.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

const std::string kMiniLM = std::string(ZOO_SOURCE_DIR) + "/pretrained/all-MiniLM-L6-v2";
const std::string kPython = std::string(ZOO_SOURCE_DIR) + "/build-py/venv/bin/python";

// An empty folder NAME in the test's scratch folder.
std::string temp_dir(const testing::ScratchDir& scratch, const std::string& name) {
  const std::string dir = scratch.path_to(name);
  fs::create_directories(dir);
  return dir;
}

std::string error_of(const std::string& dir) {
  try {
    open_pretrained_bert(dir);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

Vocab tiny_vocab() {
  return Vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "man", "plays", "##s", "guitar", "."});
}

BertConfig tiny_config() {
  BertConfig c;
  c.vocab_size = 11, c.hidden_size = 8, c.num_layers = 1, c.num_heads = 2, c.intermediate_size = 16, c.max_position = 32;
  return c;
}

// A sentence-transformers directory as our exporter writes it.
std::string write_tiny_sentence_model(const testing::ScratchDir& scratch, const std::string& name,
                                      const std::string& pooling, bool normalize) {
  const std::string dir = temp_dir(scratch, name);
  torch::manual_seed(0);
  BertModel encoder(tiny_config(), /*with_pooler=*/false);
  TokenizerOptions tok;
  tok.strip_accents = 0;
  write_pretrained_bert(dir, tiny_config(), "BertModel", hf_bert_state(*encoder), WordPieceTokenizer(tiny_vocab(), tok),
                        20, pooling, normalize);
  return dir;
}

TEST(PretrainedBert, ReadsBackWhatTheExporterWrites) {
  const testing::ScratchDir scratch("zoo_pretrained");
  const std::string dir = write_tiny_sentence_model(scratch, "roundtrip", "max", true);
  const PretrainedBert p = open_pretrained_bert(dir);
  EXPECT_EQ(p.weights_path, dir + "/model.safetensors");
  EXPECT_EQ(p.bert.hidden_size, 8);
  EXPECT_EQ(p.pooling, "max");
  EXPECT_TRUE(p.normalize);
  EXPECT_EQ(p.max_seq_length, 20);
  EXPECT_EQ(p.model_max_length, 20);
  EXPECT_EQ(p.lower_case, true);
  EXPECT_EQ(p.strip_accents, 0);
  // The weights load into a fresh encoder and equal the written ones.
  torch::manual_seed(0);
  BertModel original(tiny_config(), false);
  torch::manual_seed(1);
  BertModel loaded(tiny_config(), false);
  load_hf_bert_weights(p.weights_path, *loaded);
  for (const auto& item : original->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), loaded->named_parameters()[item.key()])) << item.key();
}

TEST(PretrainedBert, ConfigContradictingTheCheckpointIsAnError) {
  const testing::ScratchDir scratch("zoo_pretrained");
  const PretrainedBert p = open_pretrained_bert(write_tiny_sentence_model(scratch, "conflict", "mean", false));
  Config cfg(Json{{"data", {{"lower_case", false}, {"max_seq_len", 128}}}});
  // The default (not given by the user) gives way to the checkpoint.
  EXPECT_TRUE(pretrained_tokenizer_options(p, cfg, "data.lower_case").lower_case);
  EXPECT_EQ(pretrained_max_seq_len(p, cfg, "data.max_seq_len"), 20);
  cfg.set("data.lower_case=false");
  cfg.set("data.max_seq_len=30");
  EXPECT_THROW(pretrained_tokenizer_options(p, cfg, "data.lower_case"), UserError);
  try {
    pretrained_max_seq_len(p, cfg, "data.max_seq_len");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the checkpoint's limit of 20"), std::string::npos) << e.what();
  }
}

// Issue 29: a vocab.txt longer than config.json's vocab_size gave ids past the word embedding,
// and the first step ended in LibTorch's index error. Refused naming both files: one token more,
// and a vocabulary of another model (30 more).
TEST(PretrainedBert, VocabularyLongerThanTheEmbeddingIsRefused) {
  const testing::ScratchDir scratch("zoo_pretrained");
  for (const int extra : {1, 30}) {
    const std::string dir = write_tiny_sentence_model(scratch, "long_vocab_" + std::to_string(extra), "mean", false);
    {
      std::ofstream more(dir + "/vocab.txt", std::ios::app);
      for (int i = 0; i < extra; ++i) more << "extra" << i << "\n";
    }
    const PretrainedBert p = open_pretrained_bert(dir);
    const Config cfg(Json{{"data", {{"lower_case", true}}}});
    try {
      pretrained_tokenizer(p, cfg, "data.lower_case");
      FAIL() << extra;
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()), dir + "/vocab.txt: " + std::to_string(11 + extra) + " tokens, but " + dir +
                                           "/config.json's vocab_size is 11 (the word embedding's rows): a vocab.txt of "
                                           "another model?");
    }
  }
}

TEST(PretrainedBert, UnsupportedCheckpointsNameTheFileAndKey) {
  const testing::ScratchDir scratch("zoo_pretrained");
  std::string dir = write_tiny_sentence_model(scratch, "dense", "mean", true);
  std::ofstream(dir + "/modules.json")
      << R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
             {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
             {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"}])";
  EXPECT_NE(error_of(dir).find(dir + "/modules.json: module 2: 'type' is \"sentence_transformers.models.Dense\""),
            std::string::npos)
      << error_of(dir);

  dir = write_tiny_sentence_model(scratch, "sqrt", "mean", false);
  std::ofstream(dir + "/1_Pooling/config.json") << R"({"pooling_mode_mean_sqrt_len_tokens": true})";
  EXPECT_NE(error_of(dir).find("1_Pooling/config.json: 'pooling_mode_mean_sqrt_len_tokens' is not supported"),
            std::string::npos);

  dir = write_tiny_sentence_model(scratch, "roberta", "mean", false);
  Json config = read_json_file(dir + "/config.json");
  config["model_type"] = "roberta";
  write_json_file(dir + "/config.json", config);
  EXPECT_NE(error_of(dir).find("config.json: 'model_type' is \"roberta\""), std::string::npos) << error_of(dir);

  dir = write_tiny_sentence_model(scratch, "relative", "mean", false);
  config = read_json_file(dir + "/config.json");
  config["position_embedding_type"] = "relative_key";
  write_json_file(dir + "/config.json", config);
  EXPECT_NE(error_of(dir).find("'position_embedding_type' is \"relative_key\""), std::string::npos);

  dir = write_tiny_sentence_model(scratch, "noweights", "mean", false);
  fs::remove(dir + "/model.safetensors");
  EXPECT_NE(error_of(dir).find("no weights (model.safetensors, pytorch_model.bin or weights.pt)"), std::string::npos);

  dir = write_tiny_sentence_model(scratch, "escape", "mean", false);
  std::ofstream(dir + "/modules.json")
      << R"([{"idx":0,"name":"0","path":"../elsewhere","type":"sentence_transformers.models.Transformer"},
             {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}])";
  EXPECT_NE(error_of(dir).find("'path' must stay inside"), std::string::npos);

  dir = write_tiny_sentence_model(scratch, "strip", "mean", false);
  std::ofstream(dir + "/tokenizer_config.json") << R"({"strip_accents": "yes"})";
  EXPECT_NE(error_of(dir).find("tokenizer_config.json: 'strip_accents' must be null, true or false"), std::string::npos);
}

// all-MiniLM-L6-v2 from its published files against sentence-transformers itself.
TEST(PretrainedBert, MiniLMMatchesSentenceTransformers) {
  const testing::ScratchDir scratch("zoo_pretrained");
  if (!fs::exists(kMiniLM + "/model.safetensors")) GTEST_SKIP() << "no " << kMiniLM << " (scripts/fetch_pretrained.sh)";
  if (!fs::exists(kPython)) GTEST_SKIP() << "no reference venv (scripts/setup_python_refs.sh)";
  std::vector<std::string> sentences = {
      "A man is playing a guitar.",
      "Crème brûlée, naïve café — ÉCOLE!",
      "Don't split: e-mail, U.S.A., 3.14 and $5...",
      "北京欢迎你 mixed with English",
      "  leading and trailing spaces  ",
  };
  std::string long_text;
  for (int i = 0; i < 120; ++i) long_text += "the quick brown fox jumps over lazy dogs ";
  sentences.push_back(long_text);  // > 256 tokens: truncated at max_seq_length
  const std::string dir = temp_dir(scratch, "minilm");
  {
    std::ofstream f(dir + "/sentences.txt");
    for (const auto& s : sentences) f << s << "\n";
  }
  const std::string cmd = kPython + " " + ZOO_SOURCE_DIR + "/tests/python/st_reference.py --model " + kMiniLM +
                          " --sentences " + dir + "/sentences.txt --out " + dir + "/ref.json";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const Json ref = read_json_file(dir + "/ref.json");

  const PretrainedBert p = open_pretrained_bert(kMiniLM);
  EXPECT_EQ(p.pooling, "mean");
  EXPECT_TRUE(p.normalize);
  EXPECT_EQ(p.max_seq_length, 256);
  const Config cfg(Json{{"data", {{"lower_case", true}, {"max_seq_len", 128}}}});
  const WordPieceTokenizer tokenizer(Vocab::load(p.vocab_path), pretrained_tokenizer_options(p, cfg, "data.lower_case"));
  const int64_t max_len = pretrained_max_seq_len(p, cfg, "data.max_seq_len");
  EXPECT_EQ(max_len, 256);

  StsModelOptions o;
  o.architecture = "bi", o.head = "cosine", o.pooling = p.pooling, o.normalize = p.normalize;
  StsModel model(p.bert, o);
  load_hf_bert_weights(p.weights_path, *model->bert);
  model->eval();
  torch::NoGradGuard no_grad;

  // One padded batch, as evaluation runs it.
  const auto n = static_cast<int64_t>(sentences.size());
  std::vector<std::vector<int64_t>> ids;
  int64_t longest = 0;
  for (const auto& s : sentences) {
    std::vector<int64_t> row{tokenizer.vocab().cls_id};
    auto body = tokenizer.encode(s);
    body.resize(std::min<size_t>(body.size(), static_cast<size_t>(max_len - 2)));
    row.insert(row.end(), body.begin(), body.end());
    row.push_back(tokenizer.vocab().sep_id);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(row.size()));
    ids.push_back(row);
  }
  torch::Tensor batch = torch::zeros({n, longest}, torch::kInt64), mask = torch::zeros({n, longest}, torch::kInt64);
  for (int64_t i = 0; i < n; ++i) {
    const auto& row = ids[static_cast<size_t>(i)];
    EXPECT_EQ(row, ref["token_ids"][static_cast<size_t>(i)].get<std::vector<int64_t>>()) << sentences[static_cast<size_t>(i)];
    batch[i].narrow(0, 0, static_cast<int64_t>(row.size())).copy_(torch::tensor(row));
    mask[i].narrow(0, 0, static_cast<int64_t>(row.size())).fill_(1);
  }
  const torch::Tensor tokens = model->bert->forward(batch, mask, torch::Tensor());
  const torch::Tensor embeddings = model->embed(batch, mask);
  for (int64_t i = 0; i < n; ++i) {
    const auto len = static_cast<int64_t>(ids[static_cast<size_t>(i)].size());
    std::vector<float> flat;
    for (const auto& t : ref["token_embeddings"][static_cast<size_t>(i)]) {
      const auto v = t.get<std::vector<float>>();
      flat.insert(flat.end(), v.begin(), v.end());
    }
    const torch::Tensor want = torch::tensor(flat).view({len, -1});
    EXPECT_LT((tokens[i].narrow(0, 0, len) - want).abs().max().item<double>(), 1e-5) << sentences[static_cast<size_t>(i)];
    const torch::Tensor want_sentence = torch::tensor(ref["sentence_embeddings"][static_cast<size_t>(i)].get<std::vector<float>>());
    EXPECT_LT((embeddings[i] - want_sentence).abs().max().item<double>(), 1e-5) << sentences[static_cast<size_t>(i)];
  }
}

}  // namespace
}  // namespace zoo
