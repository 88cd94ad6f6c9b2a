#pragma once
// Does a convolution have an inverse? (spec §6.) A bias-free conv2d is a linear map A; its
// transposed convolution with the same weight is the adjoint Aᵀ, which inverts shapes, not
// values (AᵀA = I only for orthonormal filters such as space-to-depth or Haar). Recovering x from
// y = A x ("deconvolution" in the signal-processing sense) means solving the normal equations
// (AᵀA + λI) x = Aᵀ y, done here matrix-free by conjugate gradients with A = conv2d and
// Aᵀ = conv_transpose2d. That recovers x only when A is injective, which the report says, with
// the reason, instead of returning a plausible-looking wrong answer.
#include <torch/torch.h>

#include <array>
#include <string>

namespace zoo {

using Size2 = std::array<int64_t, 2>;  // (rows, cols)

struct ConvGeometry {
  Size2 stride{1, 1};
  Size2 padding{0, 0};  // zeros
  Size2 dilation{1, 1};
};

// conv2d's output size per axis: floor((n + 2p - d(k-1) - 1) / s) + 1. Throws if it is < 1.
Size2 conv_output_size(Size2 input_size, Size2 kernel_size, const ConvGeometry& geometry);

// The output_padding that makes conv_transpose2d(conv2d(x)) have x's size:
// (n + 2p - d(k-1) - 1) mod s per axis. It exists because a stride s > 1 maps s input sizes to
// one output size; it enlarges the computed output (real sums, not appended zeros).
Size2 conv_transpose_output_padding(Size2 input_size, Size2 kernel_size,
                                    const ConvGeometry& geometry);

// A x: conv2d of x [B, C_in, H, W] with weight [C_out, C_in, kh, kw], no bias.
torch::Tensor conv_apply(const torch::Tensor& x, const torch::Tensor& weight,
                         const ConvGeometry& geometry);
// Aᵀ v: conv_transpose2d of v [B, C_out, H', W'] with the same weight and the output_padding
// for input_size (H, W), so <A x, v> = <x, Aᵀ v> exactly (up to rounding).
torch::Tensor conv_adjoint(const torch::Tensor& v, const torch::Tensor& weight, Size2 input_size,
                           const ConvGeometry& geometry);

struct InjectivityReport {
  bool injective = false;
  std::string reason;
  // Estimates of A's extreme singular values from `lanczos_steps` Lanczos steps on AᵀA, started
  // from a fixed random vector (so null-space directions are present; CG's own Krylov space,
  // built from Aᵀy, lies in the row space and never sees them). The smallest Ritz value bounds
  // the smallest eigenvalue from above: sigma_min is an upper bound, and exact once Lanczos
  // exhausts the space. sigma_min is 0 when the structure already proves a null space.
  double sigma_max = 0.0;
  double sigma_min = 0.0;
};

// Checks, in order: enough outputs, C_out H' W' >= C_in H W (a stride s needs roughly
// C_out >= s^2 C_in; "valid" padding with C_out = C_in always fails); every input element read
// by a non-zero weight (fails when the stride skips pixels or the last rows fall outside every
// window); then sigma_min > rcond * sigma_max. rcond 0 means 1e-6 for double weights, 1e-3
// otherwise. The first two are exact; the last is an estimate (see sigma_min above).
InjectivityReport conv_injectivity(const torch::Tensor& weight, Size2 input_size,
                                   const ConvGeometry& geometry, int64_t lanczos_steps = 100,
                                   double rcond = 0.0);

struct DeconvolveOptions {
  ConvGeometry geometry;
  double lambda = 0.0;           // ridge; 0 = plain least squares (minimum-norm solution)
  int64_t max_iters = 1000;
  double tol = 1e-10;            // stop when |b - (AᵀA + λI) x| <= tol |b|, b = Aᵀ y
  int64_t lanczos_steps = 100;   // for the injectivity verdict
  double rcond = 0.0;            // as conv_injectivity
};

struct DeconvolveReport {
  int64_t iterations = 0;
  bool converged = false;          // the CG residual reached tol within max_iters
  double relative_residual = 0.0;  // |b - (AᵀA + λI) x| / |b|, recomputed from the returned x
  double data_residual = 0.0;      // |A x - y| / |y|: small does not mean x is recovered
  InjectivityReport injectivity;
};

struct DeconvolveResult {
  torch::Tensor x;  // [B, C_in, H, W]
  DeconvolveReport report;
};

// Least-squares inverse of y [B, C_out, H', W'] = A x for x [B, C_in, input_size]. The batch is
// solved as one block-diagonal system. Computed in y's dtype and device (use double to see
// 1e-8 recoveries).
DeconvolveResult deconvolve(const torch::Tensor& y, const torch::Tensor& weight, Size2 input_size,
                            const DeconvolveOptions& options = {});

}  // namespace zoo
