// ONNX exports of the BERT models (io/formats/bert_onnx.h) against their TorchScript: every STS
// variant the task exports (cross and bi, each head and pooling, post- and pre-LN) and the MLM.
#include "io/formats/bert_onnx.h"
#include "io/formats/bert_script.h"

#include "tests/io/onnx_parity.h"

namespace zoo {
namespace {

using onnx_parity::Case;
using onnx_parity::OnnxExportTest;
using onnx_parity::perturb;

BertConfig tiny_bert(bool norm_first) {
  BertConfig c;
  c.vocab_size = 37;
  c.hidden_size = 16;
  c.num_layers = 2;
  c.num_heads = 4;
  c.intermediate_size = 24;
  c.max_position = 20;
  c.layer_norm_eps = 1e-7;
  c.norm_first = norm_first;
  return c;
}

// Token ids in [1, vocab), and a mask whose rows past the first end early (padding).
torch::Tensor token_ids(int64_t batch, int64_t len, int64_t vocab) { return torch::randint(1, vocab, {batch, len}); }
torch::Tensor padding_mask(int64_t batch, int64_t len) {
  auto mask = torch::ones({batch, len}, torch::kLong);
  for (int64_t b = 1; b < batch; ++b) mask[b].narrow(0, len - b % len, b % len).zero_();
  return mask;
}

// Batch sizes 1 and 3, sequence lengths 5 and 9.
const std::vector<std::pair<int64_t, int64_t>> kTokenShapes = {{1, 5}, {3, 5}, {1, 9}, {3, 9}};

struct StsVariant {
  std::string name, architecture, head, pooling;
  bool normalize, norm_first;
};

class StsOnnxTest : public OnnxExportTest, public ::testing::WithParamInterface<StsVariant> {};

TEST_P(StsOnnxTest, OnnxRuntimeMatchesTorchScript) {
  const StsVariant& v = GetParam();
  StsModelOptions o;
  o.architecture = v.architecture;
  o.head = v.head;
  o.pooling = v.pooling;
  o.normalize = v.normalize;
  o.match_idf_buckets = 2;  // cross: match classes 0..2
  const auto c = tiny_bert(v.norm_first);
  torch::manual_seed(11);
  StsModel model(c, o);
  perturb(*model);
  export_sts_torchscript(*model, path("model.pt"));
  export_sts_onnx(*model, path("model.onnx"));
  std::vector<Case> cases;
  for (const auto& [batch, len] : kTokenShapes) {
    if (v.architecture == "cross") {
      cases.push_back({{"input_ids", token_ids(batch, len, c.vocab_size)},
                       {"attention_mask", padding_mask(batch, len)},
                       {"token_type_ids", (torch::arange(len) >= len / 2).to(torch::kLong).expand({batch, len}).contiguous()},
                       {"match", torch::randint(0, 3, {batch, len})}});
    } else {  // sentence b two tokens shorter than a: the two sequence axes are independent
      cases.push_back({{"ids_a", token_ids(batch, len, c.vocab_size)},
                       {"mask_a", padding_mask(batch, len)},
                       {"ids_b", token_ids(batch, len - 2, c.vocab_size)},
                       {"mask_b", padding_mask(batch, len - 2)}});
    }
  }
  expect_onnx_matches_torchscript(cases);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, StsOnnxTest,
    ::testing::Values(StsVariant{"CrossDistribution", "cross", "distribution", "mean", false, false},
                      StsVariant{"CrossRegressionPreLN", "cross", "regression", "mean", false, true},
                      StsVariant{"BiCosineMeanNormalized", "bi", "cosine", "mean", true, false},
                      StsVariant{"BiRegressionCls", "bi", "regression", "cls", false, false},
                      StsVariant{"BiDistributionMaxPreLN", "bi", "distribution", "max", true, true}),
    [](const ::testing::TestParamInfo<StsVariant>& info) { return info.param.name; });

class MlmOnnxTest : public OnnxExportTest, public ::testing::WithParamInterface<bool> {};

TEST_P(MlmOnnxTest, OnnxRuntimeMatchesTorchScript) {
  const auto c = tiny_bert(GetParam());
  torch::manual_seed(12);
  BertForMaskedLM model(c);
  perturb(*model);
  export_bert_mlm_torchscript(*model, path("model.pt"));
  export_bert_mlm_onnx(*model, path("model.onnx"));
  std::vector<Case> cases;
  for (const auto& [batch, len] : kTokenShapes)
    cases.push_back({{"input_ids", token_ids(batch, len, c.vocab_size)},
                     {"attention_mask", padding_mask(batch, len)},
                     {"token_type_ids", torch::randint(0, 2, {batch, len})}});
  expect_onnx_matches_torchscript(cases);
}

INSTANTIATE_TEST_SUITE_P(Layouts, MlmOnnxTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "PreLN" : "PostLN"; });

}  // namespace
}  // namespace zoo
