#pragma once
// torchvision ResNet weights into our backbone (models/resnet.h has torchvision's parameter and
// buffer names): a resnet18/resnet34 state dict as torchvision's model URLs publish it (.pth, a
// torch.save zip) or as .safetensors. ImageNet weights come from torchvision
// (https://download.pytorch.org/models/resnet18-f37072fd.pth, or
// torchvision.models.resnet18(weights="DEFAULT").state_dict()); nothing here downloads them.
#include <string>

#include "models/resnet.h"

namespace zoo {

// Names map one to one. Ignored: the classifier (fc.*) and the stages the backbone does not have
// (layer4.* for the RPN's backbone cut after layer3). Anything else missing, unexpected or of
// another shape (e.g. model.base_width != 64, or resnet34 weights for depth 18) is a UserError
// naming the file and the key; the backbone is changed only when every key checks out.
void load_torchvision_resnet(const std::string& path, ResNetImpl& backbone);

}  // namespace zoo
