#pragma once
// How every zoo export writes ONNX, without Python: an onnx::GraphProto built with ONNX's own
// protobuf classes (Debian's libonnx-dev), the model's tensors as initializers, checked by
// onnx::checker::check_model and saved atomically. Opset 17 (LayerNormalization; ONNX 1.12, the
// version Debian bookworm ships, knows opsets up to 17). The writers of this folder mirror the
// TorchScript writers node for node: bert_onnx.h, keypoint_onnx.h.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace onnx {
class ModelProto;
class GraphProto;
}  // namespace onnx

namespace zoo {

constexpr int64_t kOnnxOpset = 17;

// A node attribute: an int, a float, a list of ints or a string.
struct OnnxAttr {
  std::string name;
  std::variant<int64_t, float, std::vector<int64_t>, std::string> value;
};

// A dimension of a graph input or output: a fixed size or a symbolic name ("batch").
using OnnxDim = std::variant<int64_t, std::string>;

class OnnxGraph {
 public:
  explicit OnnxGraph(const std::string& name);
  ~OnnxGraph();
  OnnxGraph(const OnnxGraph&) = delete;
  OnnxGraph& operator=(const OnnxGraph&) = delete;

  // A float32 (floating tensors are converted) or int64 initializer; returns its name. A name
  // already given returns that initializer unchanged: weights a graph uses twice (the two
  // sentences of a bi-encoder) are stored once.
  std::string initializer(const std::string& name, const torch::Tensor& tensor);
  // Small constants as initializers with generated names: int64 1-D, a 0-d int64 (an index for
  // Gather that drops the axis) and a 0-d float32.
  std::string ints(const std::vector<int64_t>& values);
  std::string index(int64_t value);
  std::string scalar(float value);
  // A node with one output (a generated name, returned) or `num_outputs` outputs.
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<OnnxAttr>& attrs = {});
  std::vector<std::string> node(const std::string& op, const std::vector<std::string>& inputs, int num_outputs,
                                const std::vector<OnnxAttr>& attrs);
  // x @ weight^T + bias, as torch.linear (the transposed weight is stored, not transposed per call).
  std::string linear(const std::string& x, const std::string& name, const torch::Tensor& weight,
                     const torch::Tensor& bias);

  // Graph inputs and outputs; elem_type from torch (kFloat or kLong). output() names `value`
  // `name` through an Identity node.
  void input(const std::string& name, torch::ScalarType type, const std::vector<OnnxDim>& dims);
  void output(const std::string& name, const std::string& value, torch::ScalarType type,
              const std::vector<OnnxDim>& dims);

  // Checks the model with onnx::checker::check_model (a failure is a bug of the writer: throws
  // std::logic_error with the checker's message) and writes it to path atomically.
  void save(const std::string& path, const std::string& doc) const;

 private:
  std::string fresh(const std::string& stem);
  std::unique_ptr<onnx::GraphProto> graph_;
  std::set<std::string> initializers_;
  int64_t counter_ = 0;
};

}  // namespace zoo
