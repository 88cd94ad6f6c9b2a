#pragma once
// Heatmap soft-argmax (spec §3): a spatial softmax turns per-keypoint logits into a probability
// map, whose expectation over a coordinate grid is a differentiable "argmax". 2D maps
// [B, K, H, W] give [B, K, 2] = (x, y); 3D volumes [B, K, D, H, W] give [B, K, 3] = (x, y, z)
// (integral regression). x always comes from the width axis (columns), y from the height axis.
//
// Coordinate conventions, for an axis of n cells with cell index j (spec §3.1 table):
//   kPixel         u = j                 pixel (i, j)'s centre is at x = j, y = i; range [0, n-1]
//   kAlignCorners  2j/(n-1) - 1          kornia's create_meshgrid, grid_sample(align_corners=true);
//                                        range [-1, 1] (n = 1: 0)
//   kPixelCentre   (2j+1)/n - 1          DSNT / dsntnn, grid_sample(align_corners=false); range
//                                        [-1+1/n, 1-1/n]: it never reaches +-1 exactly
// The default is kPixelCentre (spec §3.2: symmetric, resolution independent, a uniform map gives
// (0, 0)); convert_coords maps between all three.
#include <torch/torch.h>

#include <string>

namespace zoo {

enum class CoordConvention { kPixel, kAlignCorners, kPixelCentre };

// "pixel" | "align_corners" (kornia) | "pixel_centre" (DSNT); throws on anything else.
CoordConvention parse_coord_convention(const std::string& name);

// The grid values of the n cells of one axis in `convention`, shape [n].
torch::Tensor coordinate_grid(int64_t n, CoordConvention convention,
                              const torch::TensorOptions& options = torch::kDouble);

// coords [..., S] in order (x, y[, z]); extent = the matching axis sizes (W, H[, D]), i.e. the
// spatial sizes of the map in reverse. Exact inverse pairs up to rounding.
torch::Tensor convert_coords(const torch::Tensor& coords, torch::IntArrayRef extent,
                             CoordConvention from, CoordConvention to);

// Softmax over the last `spatial_dims` (2 or 3) axes of [B, K, ...] logits, stable (max
// subtracted). mask (optional): broadcastable to logits, > 0 / true = valid cell; invalid cells
// get probability 0. A map with no valid cell gets all zeros (not NaN) and a zero gradient.
// Half / bfloat16 logits are computed in float (exp and the sum lose too much in half).
torch::Tensor spatial_softmax(const torch::Tensor& logits, int64_t spatial_dims,
                              const torch::Tensor& mask = {});

// Expected coordinates [B, K, S] (x, y[, z]) of probability maps [B, K, H, W] or
// [B, K, D, H, W] that sum to 1 per map (spec §3.4: on an unnormalised map the "expectation" is
// meaningless; this is asserted in debug builds). A map of zeros (a fully masked map from
// spatial_softmax) gives the map centre. A one-hot map at cell j gives exactly grid value j.
torch::Tensor spatial_expectation(const torch::Tensor& probs, CoordConvention convention);

struct SoftArgmaxOptions {
  // Inverse temperature: softmax(beta * logits), larger = sharper. kornia's `temperature`
  // argument means the same (it multiplies); "divide by T" conventions are 1 / beta.
  double beta = 1.0;
  // Learn beta as the parameter "log_beta" (initialised to log(beta)), so it stays positive.
  bool learnable_beta = false;
  CoordConvention convention = CoordConvention::kPixelCentre;
};

struct SoftArgmaxOutput {
  torch::Tensor coords;    // [B, K, S], S = 2 (x, y) or 3 (x, y, z), in options.convention
  torch::Tensor heatmaps;  // probabilities, the logits' shape, each map sums to 1 (0 if masked)
};

// Shared implementation of the 2D and 3D modules below.
class SoftArgmaxImpl : public torch::nn::Module {
 public:
  SoftArgmaxImpl(int64_t spatial_dims, const SoftArgmaxOptions& options);
  // logits [B, K, H, W] (2D) or [B, K, D, H, W] (3D) -> coords [B, K, S]; mask as spatial_softmax.
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& mask = {});
  // The same, plus the probability maps (for drawing and for the JS heatmap regulariser).
  SoftArgmaxOutput forward_with_heatmaps(const torch::Tensor& logits,
                                         const torch::Tensor& mask = {});
  double beta() const;  // the current value, learnable or not

  SoftArgmaxOptions options;
  torch::Tensor log_beta;  // 0-dim parameter; undefined unless options.learnable_beta

 private:
  int64_t spatial_dims_;
};

class SoftArgmax2dImpl : public SoftArgmaxImpl {
 public:
  explicit SoftArgmax2dImpl(const SoftArgmaxOptions& options = {}) : SoftArgmaxImpl(2, options) {}
};
TORCH_MODULE(SoftArgmax2d);

class SoftArgmax3dImpl : public SoftArgmaxImpl {
 public:
  explicit SoftArgmax3dImpl(const SoftArgmaxOptions& options = {}) : SoftArgmaxImpl(3, options) {}
};
TORCH_MODULE(SoftArgmax3d);

}  // namespace zoo
