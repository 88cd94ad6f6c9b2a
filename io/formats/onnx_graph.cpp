#include "io/formats/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <stdexcept>

#include "io/atomic_file.h"

namespace zoo {
namespace {

int32_t elem_type(torch::ScalarType type) {
  if (type == torch::kFloat) return onnx::TensorProto::FLOAT;
  if (type == torch::kLong) return onnx::TensorProto::INT64;
  throw std::logic_error(std::string("OnnxGraph: unsupported dtype ") + c10::toString(type));
}

void value_info(onnx::ValueInfoProto* info, const std::string& name, torch::ScalarType type,
                const std::vector<OnnxDim>& dims) {
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type(type));
  auto* shape = tensor->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (const auto* size = std::get_if<int64_t>(&d))
      dim->set_dim_value(*size);
    else
      dim->set_dim_param(std::get<std::string>(d));
  }
}

}  // namespace

OnnxGraph::OnnxGraph(const std::string& name) : graph_(std::make_unique<onnx::GraphProto>()) {
  graph_->set_name(name);
}
OnnxGraph::~OnnxGraph() = default;

std::string OnnxGraph::fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }

std::string OnnxGraph::initializer(const std::string& name, const torch::Tensor& tensor) {
  if (!initializers_.insert(name).second) return name;
  // Floating tensors (float32, or a bf16 / half model) are written as float32, the dtype of the
  // graph's activations.
  const torch::Tensor t =
      (tensor.is_floating_point() ? tensor.detach().to(torch::kFloat) : tensor.detach().to(torch::kLong))
          .cpu()
          .contiguous();
  auto* init = graph_->add_initializer();
  init->set_name(name);
  init->set_data_type(elem_type(t.scalar_type()));
  for (const int64_t d : t.sizes()) init->add_dims(d);
  // raw_data is little-endian, as are the x86 / ARM hosts LibTorch runs on.
  init->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
  return name;
}

std::string OnnxGraph::ints(const std::vector<int64_t>& values) {
  return initializer(fresh("const"), torch::tensor(values, torch::kLong));
}

std::string OnnxGraph::index(int64_t value) {
  return initializer(fresh("const"), torch::scalar_tensor(value, torch::kLong));
}

std::string OnnxGraph::scalar(float value) {
  return initializer(fresh("const"), torch::scalar_tensor(value, torch::kFloat));
}

std::vector<std::string> OnnxGraph::node(const std::string& op, const std::vector<std::string>& inputs,
                                         int num_outputs, const std::vector<OnnxAttr>& attrs) {
  auto* n = graph_->add_node();
  n->set_op_type(op);
  n->set_name(fresh(op));
  for (const auto& in : inputs) n->add_input(in);
  std::vector<std::string> outputs;
  for (int i = 0; i < num_outputs; ++i) {
    outputs.push_back(n->name() + (num_outputs > 1 ? ":" + std::to_string(i) : ""));
    n->add_output(outputs.back());
  }
  for (const auto& a : attrs) {
    auto* attr = n->add_attribute();
    attr->set_name(a.name);
    if (const auto* i = std::get_if<int64_t>(&a.value)) {
      attr->set_type(onnx::AttributeProto::INT);
      attr->set_i(*i);
    } else if (const auto* f = std::get_if<float>(&a.value)) {
      attr->set_type(onnx::AttributeProto::FLOAT);
      attr->set_f(*f);
    } else if (const auto* list = std::get_if<std::vector<int64_t>>(&a.value)) {
      attr->set_type(onnx::AttributeProto::INTS);
      for (const int64_t v : *list) attr->add_ints(v);
    } else {
      attr->set_type(onnx::AttributeProto::STRING);
      attr->set_s(std::get<std::string>(a.value));
    }
  }
  return outputs;
}

std::string OnnxGraph::node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<OnnxAttr>& attrs) {
  return node(op, inputs, 1, attrs)[0];
}

std::string OnnxGraph::linear(const std::string& x, const std::string& name, const torch::Tensor& weight,
                              const torch::Tensor& bias) {
  const std::string y = node("MatMul", {x, initializer(name + ".weight_t", weight.t())});
  return bias.defined() ? node("Add", {y, initializer(name + ".bias", bias)}) : y;
}

void OnnxGraph::input(const std::string& name, torch::ScalarType type, const std::vector<OnnxDim>& dims) {
  value_info(graph_->add_input(), name, type, dims);
}

void OnnxGraph::output(const std::string& name, const std::string& value, torch::ScalarType type,
                       const std::vector<OnnxDim>& dims) {
  auto* n = graph_->add_node();
  n->set_op_type("Identity");
  n->set_name(fresh("Identity"));
  n->add_input(value);
  n->add_output(name);
  value_info(graph_->add_output(), name, type, dims);
}

void OnnxGraph::save(const std::string& path, const std::string& doc) const {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("zoo");
  model.set_doc_string(doc);
  model.add_opset_import()->set_version(kOnnxOpset);  // the default domain ""
  *model.mutable_graph() = *graph_;
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw std::logic_error("ONNX export " + path + ": the checker rejects the graph: " + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("ONNX export " + path + ": serialisation failed");
  atomic_write(path, [&](const ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

}  // namespace zoo
