#pragma once
// The ONNX exports (io/formats/*_onnx.h) against the TorchScript exports of the same model: the
// writer's own onnx::checker::check_model passes (save() throws otherwise), Python's
// onnx.checker with full_check (shape inference) accepts the file, and ONNX Runtime gives
// TorchScript's outputs within 1e-4 at two batch sizes and two sequence lengths / image sizes.
// One Python process per test checks and runs (tests/python/onnx_run.py); it skips with a message
// without build-py/venv's onnx and onnxruntime (scripts/setup_python_refs.sh).
#include <gtest/gtest.h>
#include <torch/script.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "io/torch_save.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace onnx_parity {

namespace fs = std::filesystem;

inline const std::string kVenvPython = std::string(ZOO_SOURCE_DIR) + "/build-py/venv/bin/python";
inline const std::string kScript = std::string(ZOO_SOURCE_DIR) + "/tests/python/onnx_run.py";

// float32 throughout: ONNX Runtime fuses Conv+BatchNorm, attention, LayerNorm and GELU and sums
// GEMMs and convolutions in another order than LibTorch. Measured on these models (ONNX Runtime
// 1.19.2, AMD EPYC): max differences BERT logits 5.7e-7, STS scores 7.2e-7, keypoints 2.9e-6
// (outputs up to 5), heatmap coords 5.6e-8, RPN boxes 7.6e-6 (coordinates up to 87), scores
// 6e-8, each the size of TorchScript's own float32 error against its float64 run printed beside
// it. 1e-4 leaves 13x room over the largest and still catches a semantic slip (a wrong eps,
// mask, pooling, padding or clip moves outputs by 1e-3 or more). The vision models' weights
// are perturbed at their init's scale (vision_onnx_test.cpp): an additive 0.1 on every filter
// grew ResNet activations to ~1e3, where float32 rounding alone passed 1e-4 (2.6e-4 to 3.1e-3).
constexpr double kTolerance = 1e-4;

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Moves every parameter away from its init (zero biases, unit LayerNorms) so each one matters.
inline void perturb(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p.add_(torch::randn_like(p) * 0.1);
  model.eval();
}

// One call of the graph: its inputs in graph order.
using Case = std::vector<std::pair<std::string, torch::Tensor>>;

// Each test's model files in a folder of its own, removed after it (parameterised tests' too).
class OnnxExportTest : public testing::ScratchDirTest {
 protected:
  std::string path(const std::string& name) const { return temp_path(name); }
  const fs::path dir_ = scratch_.path();

  // model.pt and model.onnx must already be written. Runs every case through both; the outputs
  // (a tensor or a tuple of them) compared by position. TorchScript also runs in float64, so the
  // log shows float32's own rounding (|TorchScript32 - TorchScript64|) beside the difference
  // to ONNX Runtime: a graph bug shows as a difference far above that rounding.
  void expect_onnx_matches_torchscript(const std::vector<Case>& cases) {
    ASSERT_TRUE(fs::exists(path("model.onnx")));
    EXPECT_FALSE(fs::exists(path("model.onnx.tmp")));
    if (!fs::exists(kVenvPython))
      GTEST_SKIP() << "no build-py/venv (scripts/setup_python_refs.sh makes it): onnx.checker and ONNX Runtime parity skipped";
    torch::NoGradGuard no_grad;
    auto scripted = torch::jit::load(path("model.pt"));
    auto scripted64 = scripted.clone();
    scripted64.to(torch::kDouble);
    const auto outputs = [](const c10::IValue& out) {
      std::vector<torch::Tensor> list;
      if (out.isTuple())
        for (const auto& e : out.toTuple()->elements()) list.push_back(e.toTensor());
      else
        list.push_back(out.toTensor());
      return list;
    };
    std::vector<std::pair<std::string, torch::Tensor>> feed;
    std::vector<std::vector<torch::Tensor>> expected, expected64;
    for (size_t c = 0; c < cases.size(); ++c) {
      std::vector<c10::IValue> args, args64;
      for (const auto& [name, tensor] : cases[c]) {
        feed.emplace_back(std::to_string(c) + "/" + name, tensor);
        args.emplace_back(tensor);
        args64.emplace_back(tensor.is_floating_point() ? tensor.to(torch::kDouble) : tensor);
      }
      expected.push_back(outputs(scripted.forward(args)));
      expected64.push_back(outputs(scripted64.forward(args64)));
    }
    write_torch_tensor_dict(path("inputs.pt"), feed);
    const std::string log = path("log.txt");
    const int status = std::system((kVenvPython + " " + kScript + " run " + path("model.onnx") + " " + path("inputs.pt") +
                                    " " + path("outputs.pt") + " >" + log + " 2>&1")
                                       .c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) GTEST_SKIP() << read_text(log);
    ASSERT_EQ(status, 0) << read_text(log);
    const auto got = read_torch_tensor_dict(path("outputs.pt"));
    ASSERT_EQ(got.size(), cases.size() * expected[0].size());
    for (size_t c = 0; c < cases.size(); ++c) {
      for (size_t i = 0; i < expected[c].size(); ++i) {
        const std::string prefix = std::to_string(c) + "/" + std::to_string(i) + "_";
        const auto it = got.lower_bound(prefix);
        ASSERT_TRUE(it != got.end() && it->first.rfind(prefix, 0) == 0) << prefix;
        SCOPED_TRACE(it->first);
        const auto& want = expected[c][i];
        ASSERT_EQ(it->second.sizes(), want.sizes());
        if (want.is_floating_point()) {
          const auto diff = [](const torch::Tensor& a, const torch::Tensor& b) {
            return a.sizes() == b.sizes() ? (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>()
                                          : std::numeric_limits<double>::quiet_NaN();
          };
          const double onnx = diff(it->second, want);
          EXPECT_LT(onnx, kTolerance);
          std::cout << "onnx parity " << it->first << ": max |ONNX Runtime - TorchScript| = " << onnx
                    << ", float32 rounding max |TorchScript32 - TorchScript64| = " << diff(want, expected64[c][i])
                    << " (max |TorchScript| " << want.abs().max().item<double>() << ")\n";
        } else {
          EXPECT_TRUE(torch::equal(it->second, want));
        }
      }
    }
  }
};

}  // namespace onnx_parity
}  // namespace zoo
