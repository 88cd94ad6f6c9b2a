#include "io/formats/keypoint_onnx.h"

#include "io/formats/onnx_graph.h"
#include "io/formats/resnet_onnx.h"

namespace zoo {

void export_keypoints_onnx(KeypointRegressorImpl& model, const std::string& path) {
  OnnxGraph g("ZooKeypointRegressor");
  g.input("images", torch::kFloat, {"batch", 3, "height", "width"});
  const std::string features = resnet_onnx(g, *model.backbone, "", "images");
  const std::string pooled =
      g.node("ReduceMean", {features}, {{"axes", std::vector<int64_t>{2, 3}}, {"keepdims", int64_t{0}}});
  const int64_t k = model.options.num_keypoints, d = model.options.coord_dims;
  const std::string out = g.node("Reshape", {g.linear(pooled, "fc", model.fc->weight, model.fc->bias), g.ints({-1, k, d})});
  g.output("keypoints", out, torch::kFloat, {"batch", k, d});
  g.save(path, "zoo keypoint regressor: images [batch, 3, height, width] -> keypoints [batch, " + std::to_string(k) +
                   ", " + std::to_string(d) + "]");
}

}  // namespace zoo
