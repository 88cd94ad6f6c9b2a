#pragma once
// Losses for heatmap keypoint heads (spec §3): the DSNT heatmap regulariser for soft-argmax maps,
// and the per-axis classification alternative (one softmax over the columns, one over the rows).
//
// The coordinate loss on soft-argmax outputs is keypoint_loss (losses/keypoint_loss.h) with
// D = 2: "euclidean" (the default: mean per-keypoint L2 distance, as DSNT), "l1" (integral
// regression's choice), "mse" or "smooth_l1", each the mean over visible keypoints, 0 with a zero
// gradient when nothing is visible. It is not repeated here.
//
// Shared conventions: target coordinates are (x, y) in pixels with pixel (i, j)'s centre at
// x = j, y = i (soft_argmax.h's kPixel); visible [B, K] holds weights m (bool, 0/1 or fractional;
// undefined = all 1); a loss is sum_nk m_nk l_nk / max(sum m, 1), as keypoint_loss, and
// keypoints with m <= 0 are ignored even if their target is NaN or their label out of range.
// Half / bfloat16 inputs are computed in float.
#include <torch/torch.h>

namespace zoo {

// Normalised Gaussian maps [B, K, H, W]: cell (i, j) proportional to
// exp(-((j - x)^2 + (i - y)^2) / (2 sigma^2)) for centres [B, K, 2] = (x, y) in pixels. Each map
// sums to 1, also for a centre far outside the map (the map is computed as a stable softmax).
torch::Tensor gaussian_heatmaps(const torch::Tensor& centres, int64_t height, int64_t width,
                                double sigma);

// Added inside the logs of the KL terms, as dsntnn: keeps the gradient finite where a
// probability underflows to 0.
constexpr double kJsEps = 1e-24;

// dsntnn's js_reg_losses: Jensen-Shannon divergence (nats, at most log 2) between each
// probability map heatmaps [B, K, H, W] (SoftArgmax's heatmaps, each summing to 1) and
// gaussian_heatmaps(target, H, W, sigma), target [B, K, 2] in pixels; visibility-weighted mean
// over keypoints. JS(p, g) = KL(p || a) / 2 + KL(g || a) / 2 with a = (p + g) / 2. The DSNT
// paper's default: Euclidean coordinate loss + 1 * this with sigma = 1 px.
torch::Tensor heatmap_js_regulariser(const torch::Tensor& heatmaps, const torch::Tensor& target,
                                     const torch::Tensor& visible = {}, double sigma = 1.0);

// Per-axis classification: logits_x [B, K, W] over column bins, logits_y [B, K, H] over row bins,
// labels [B, K, 2] integer (x bin, y bin). Per keypoint CE_x + CE_y (the negative log-likelihood
// of the (x, y) cell when the axes are independent), visibility-weighted mean over keypoints.
// A visible keypoint whose label is outside [0, bins) throws std::invalid_argument naming the
// sample, keypoint, label and range (Caffe's SoftmaxWithLoss reads memory out of bounds instead).
torch::Tensor per_axis_ce_loss(const torch::Tensor& logits_x, const torch::Tensor& logits_y,
                               const torch::Tensor& labels, const torch::Tensor& visible = {});

// Decoding per-axis logits to [B, K, 2] (x, y) in bin units (bin j = pixel j when there is one
// bin per pixel; divide by the bins per pixel otherwise): the most likely bin of each axis, and
// the expected bin under each axis' softmax (differentiable, sub-bin).
torch::Tensor per_axis_argmax(const torch::Tensor& logits_x, const torch::Tensor& logits_y);
torch::Tensor per_axis_expectation(const torch::Tensor& logits_x, const torch::Tensor& logits_y);

}  // namespace zoo
