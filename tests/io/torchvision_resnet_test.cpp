// torchvision ResNet weights into our backbone: a state dict saved by Python's torchvision
// (seeded random init with random BatchNorm statistics; ImageNet weights cannot be fetched here)
// gives torchvision's own features to 1e-5, as .pth and as .safetensors; mismatches are errors.
#include "io/formats/torchvision_resnet.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "io/safetensors.h"
#include "io/torch_save.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Python's torchvision writes DIR/resnet.pth (its state dict) and DIR/reference.pt {x, layer3,
// layer4}: its features for a fixed input. Returns DIR, or "" when Python cannot run.
std::string make_reference(int depth, const std::string& dir) {
  const std::string script = dir + "/make.py";
  std::ofstream(script) << "import sys, torch, torchvision\n"
                           "torch.manual_seed(0)\n"
                           "m = torchvision.models.resnet" << depth << "()\n"
                           "for mod in m.modules():\n"
                           "    if isinstance(mod, torch.nn.BatchNorm2d):\n"
                           "        mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 2.0)\n"
                           "        mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.2, 0.2)\n"
                           "m.eval()\n"
                           "torch.save(m.state_dict(), sys.argv[1] + '/resnet.pth')\n"
                           "x = torch.randn(2, 3, 64, 96)\n"
                           "with torch.no_grad():\n"
                           "    h = m.maxpool(m.relu(m.bn1(m.conv1(x))))\n"
                           "    l3 = m.layer3(m.layer2(m.layer1(h)))\n"
                           "    l4 = m.layer4(l3)\n"
                           "torch.save({'x': x, 'layer3': l3, 'layer4': l4}, sys.argv[1] + '/reference.pt')\n";
  const std::string cmd = "/usr/bin/python3 " + script + " " + dir;
  if (std::system(cmd.c_str()) != 0) return "";
  return dir;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Each test's reference weights (tens of MB) in a folder of its own, removed after it.
class TorchvisionWeights : public testing::ScratchDirTest {};

TEST_F(TorchvisionWeights, Resnet18FeaturesMatchTorchvision) {
  const std::string dir = make_reference(18, scratch_.path().string());
  if (dir.empty()) GTEST_SKIP() << "/usr/bin/python3 with torchvision is needed (scripts/setup.sh installs it)";
  const auto ref = read_torch_tensor_dict(dir + "/reference.pt");
  // The same weights as safetensors: both formats a user may hand us.
  std::vector<std::pair<std::string, torch::Tensor>> entries;
  for (const auto& [k, v] : read_torch_tensor_dict(dir + "/resnet.pth")) entries.emplace_back(k, v);
  write_safetensors(dir + "/resnet.safetensors", entries);
  for (const std::string file : {"resnet.pth", "resnet.safetensors"}) {
    ResNetOptions o;  // resnet18, 4 stages, width 64
    ResNet full(o);
    load_torchvision_resnet(dir + "/" + file, *full);
    full->eval();
    torch::NoGradGuard no_grad;
    EXPECT_LT(max_diff(full->forward(ref.at("x")), ref.at("layer4")), 1e-5) << file;
    // The RPN's backbone stops at layer3: layer4.* and fc.* are ignored.
    o.num_stages = 3;
    ResNet cut(o);
    load_torchvision_resnet(dir + "/" + file, *cut);
    cut->eval();
    EXPECT_LT(max_diff(cut->forward(ref.at("x")), ref.at("layer3")), 1e-5) << file;
  }
}

TEST_F(TorchvisionWeights, MismatchesNameTheKey) {
  const std::string dir = make_reference(18, scratch_.path().string());
  if (dir.empty()) GTEST_SKIP() << "/usr/bin/python3 with torchvision is needed";
  const auto error_of = [&](ResNetOptions o) -> std::string {
    ResNet net(o);
    const auto before = net->conv1->weight.clone();
    try {
      load_torchvision_resnet(dir + "/resnet.pth", *net);
    } catch (const UserError& e) {
      EXPECT_TRUE(torch::equal(before, net->conv1->weight)) << "a failed load must leave the model untouched";
      return e.what();
    }
    return "";
  };
  ResNetOptions narrow;
  narrow.base_width = 32;
  EXPECT_NE(error_of(narrow).find("key 'conv1.weight' has shape [64, 3, 7, 7], the model expects [32, 3, 7, 7]"),
            std::string::npos)
      << error_of(narrow);
  ResNetOptions deeper;
  deeper.depth = 34;
  EXPECT_NE(error_of(deeper).find("missing key 'layer1.2.conv1.weight'"), std::string::npos) << error_of(deeper);
  std::vector<std::pair<std::string, torch::Tensor>> extra;
  for (const auto& [k, v] : read_torch_tensor_dict(dir + "/resnet.pth")) extra.emplace_back(k, v);
  extra.emplace_back("head.weight", torch::zeros({1}));
  write_safetensors(dir + "/extra.safetensors", extra);
  ResNet net{ResNetOptions{}};
  try {
    load_torchvision_resnet(dir + "/extra.safetensors", *net);
    FAIL() << "an unexpected key must be an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected key 'head.weight'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace zoo
