#include "models/conv_inverse.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace zoo {
namespace {

Size2 kernel_size_of(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 4 && weight.is_floating_point(),
              "conv: weight must be floating [C_out, C_in, kh, kw], got ", weight.sizes(), " ",
              weight.scalar_type());
  return {weight.size(2), weight.size(3)};
}

double scalar_product(const torch::Tensor& a, const torch::Tensor& b) {
  return (a * b).sum().item<double>();
}

std::string pair_str(Size2 v) {
  return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ")";
}

// Extreme eigenvalues of the symmetric operator `apply`, started from q, after
// `steps` Lanczos steps: the extreme eigenvalues of the tridiagonal matrix of its coefficients.
// No reorthogonalisation: in finite precision that only duplicates converged Ritz values, and
// the extreme ones stay valid.
template <typename Op>
std::pair<double, double> lanczos_extremes(const Op& apply, torch::Tensor q, int64_t steps) {
  q = q / q.norm();
  auto q_prev = torch::zeros_like(q);
  double beta = 0.0;
  std::vector<double> alphas, betas;
  for (int64_t j = 0; j < steps; ++j) {
    torch::Tensor w = apply(q) - beta * q_prev;
    const double alpha = scalar_product(w, q);
    w = w - alpha * q;
    alphas.push_back(alpha);
    beta = w.norm().item<double>();
    // An invariant subspace: the Ritz values are now exact eigenvalues.
    if (beta <= 1e-13 * std::abs(alphas.front())) break;
    if (j + 1 < steps) betas.push_back(beta);  // the last one lies outside T
    q_prev = q;
    q = w / beta;
  }
  const auto m = static_cast<int64_t>(alphas.size());
  auto t = torch::diag(torch::tensor(alphas, torch::kDouble));
  if (m > 1) {
    const auto off = torch::tensor(betas, torch::kDouble);
    t = t + torch::diag(off, 1) + torch::diag(off, -1);
  }
  const auto eig = torch::linalg_eigvalsh(t);  // ascending
  return {eig[0].item<double>(), eig[m - 1].item<double>()};
}

}  // namespace

Size2 conv_output_size(Size2 input_size, Size2 kernel_size, const ConvGeometry& g) {
  Size2 out{};
  for (int a = 0; a < 2; ++a) {
    TORCH_CHECK(g.stride[a] > 0 && g.dilation[a] > 0 && g.padding[a] >= 0 && kernel_size[a] > 0,
                "conv geometry: need stride, dilation, kernel > 0 and padding >= 0");
    const int64_t span = input_size[a] + 2 * g.padding[a] - g.dilation[a] * (kernel_size[a] - 1);
    TORCH_CHECK(span >= 1, "conv geometry: input ", pair_str(input_size), " with padding ",
                pair_str(g.padding), " is smaller than the dilated kernel ",
                pair_str(kernel_size));
    out[a] = (span - 1) / g.stride[a] + 1;
  }
  return out;
}

Size2 conv_transpose_output_padding(Size2 input_size, Size2 kernel_size, const ConvGeometry& g) {
  conv_output_size(input_size, kernel_size, g);  // validates
  Size2 op{};
  for (int a = 0; a < 2; ++a)
    op[a] = (input_size[a] + 2 * g.padding[a] - g.dilation[a] * (kernel_size[a] - 1) - 1) %
            g.stride[a];
  return op;
}

torch::Tensor conv_apply(const torch::Tensor& x, const torch::Tensor& weight,
                         const ConvGeometry& g) {
  kernel_size_of(weight);
  return torch::conv2d(x, weight, /*bias=*/{}, g.stride, g.padding, g.dilation);
}

torch::Tensor conv_adjoint(const torch::Tensor& v, const torch::Tensor& weight, Size2 input_size,
                           const ConvGeometry& g) {
  const auto op = conv_transpose_output_padding(input_size, kernel_size_of(weight), g);
  return torch::conv_transpose2d(v, weight, /*bias=*/{}, g.stride, g.padding, op, /*groups=*/1,
                                 g.dilation);
}

InjectivityReport conv_injectivity(const torch::Tensor& weight, Size2 input_size,
                                   const ConvGeometry& g, int64_t lanczos_steps, double rcond) {
  const auto kernel = kernel_size_of(weight);
  const auto out = conv_output_size(input_size, kernel, g);
  const int64_t c_out = weight.size(0), c_in = weight.size(1);
  const int64_t outputs = c_out * out[0] * out[1], unknowns = c_in * input_size[0] * input_size[1];
  const auto wopts = weight.options().requires_grad(false);
  const auto w = weight.detach();
  InjectivityReport report;

  if (lanczos_steps > 0) {
    // Fixed seed: the verdict must not depend on the global RNG state.
    auto gen = at::detail::createCPUGenerator(/*seed_val=*/12345);
    const auto start = torch::randn({1, c_in, input_size[0], input_size[1]}, gen,
                                    torch::kDouble)
                           .to(wopts);
    const auto normal = [&](const torch::Tensor& x) {
      return conv_adjoint(conv_apply(x, w, g), w, input_size, g);
    };
    const auto [lo, hi] =
        lanczos_extremes(normal, start, std::min<int64_t>(lanczos_steps, unknowns));
    report.sigma_min = std::sqrt(std::max(lo, 0.0));
    report.sigma_max = std::sqrt(std::max(hi, 0.0));
  }

  std::ostringstream why;
  if (outputs < unknowns) {
    why << "too few outputs: C_out*H'*W' = " << c_out << "*" << out[0] << "*" << out[1] << " = "
        << outputs << " < C_in*H*W = " << c_in << "*" << input_size[0] << "*" << input_size[1]
        << " = " << unknowns << " unknowns (stride " << pair_str(g.stride) << ", padding "
        << pair_str(g.padding) << "), so A has a null space";
    report.sigma_min = 0.0;
    report.reason = why.str();
    return report;
  }
  // Aᵀ applied to ones with |w|: zero exactly where no non-zero weight reads the input element
  // (a zero column of A).
  const auto reach = conv_adjoint(torch::ones({1, c_out, out[0], out[1]}, wopts), w.abs(),
                                  input_size, g);
  const auto unread = (reach == 0).flatten();
  if (unread.any().item<bool>()) {
    const int64_t k = unread.to(torch::kInt).argmax().item<int64_t>();
    const int64_t plane = input_size[0] * input_size[1];
    why << "input element (channel " << k / plane << ", row " << (k % plane) / input_size[1]
        << ", col " << k % input_size[1] << ") is read by no non-zero weight (stride "
        << pair_str(g.stride) << ", dilation " << pair_str(g.dilation) << ", kernel "
        << pair_str(kernel) << ", padding " << pair_str(g.padding)
        << "), so it cannot be recovered";
    report.sigma_min = 0.0;
    report.reason = why.str();
    return report;
  }
  if (lanczos_steps <= 0) {
    report.injective = true;
    report.reason = "enough outputs and every input read (singular values not checked)";
    return report;
  }
  if (rcond <= 0) rcond = weight.scalar_type() == torch::kDouble ? 1e-6 : 1e-3;
  const double ratio = report.sigma_max > 0 ? report.sigma_min / report.sigma_max : 0.0;
  report.injective = ratio > rcond;
  why << (report.injective ? "no null space found" : "numerically singular")
      << ": sigma_min <= " << report.sigma_min << ", sigma_max ~ " << report.sigma_max
      << ", ratio " << ratio << (report.injective ? " > " : " <= ") << "rcond " << rcond
      << " (Lanczos on A^T A)";
  report.reason = why.str();
  return report;
}

DeconvolveResult deconvolve(const torch::Tensor& y, const torch::Tensor& weight, Size2 input_size,
                            const DeconvolveOptions& options) {
  const auto& g = options.geometry;
  const auto out = conv_output_size(input_size, kernel_size_of(weight), g);
  TORCH_CHECK(y.dim() == 4 && y.size(1) == weight.size(0) && y.size(2) == out[0] &&
                  y.size(3) == out[1] && y.scalar_type() == weight.scalar_type(),
              "deconvolve: y must be [B, ", weight.size(0), ", ", out[0], ", ", out[1],
              "] (the conv of an input of size ", pair_str(input_size),
              ") with the weight's dtype ", weight.scalar_type(), ", got ", y.sizes(), " ",
              y.scalar_type());
  TORCH_CHECK(options.lambda >= 0 && options.max_iters >= 0 && options.tol >= 0,
              "deconvolve: need lambda >= 0, max_iters >= 0, tol >= 0");
  // The solve is not part of any graph: no autograd bookkeeping over hundreds of iterations.
  torch::NoGradGuard no_grad;
  const auto w = weight.detach();
  const auto A = [&](const torch::Tensor& x) { return conv_apply(x, w, g); };
  const auto normal = [&](const torch::Tensor& x) {
    auto r = conv_adjoint(A(x), w, input_size, g);
    return options.lambda > 0 ? r + options.lambda * x : r;
  };

  DeconvolveResult result;
  auto& report = result.report;
  report.injectivity = conv_injectivity(w, input_size, g, options.lanczos_steps, options.rcond);

  // Conjugate gradients on the normal equations from x = 0. With λ = 0 the iterates stay in the
  // row space of A, so a non-injective A gives the minimum-norm least-squares solution.
  const auto b = conv_adjoint(y.detach(), w, input_size, g);
  const double b_norm = b.norm().item<double>();
  auto x = torch::zeros_like(b);
  auto r = b.clone();
  auto p = r.clone();
  double rs = scalar_product(r, r);
  while (true) {
    if (std::sqrt(rs) <= options.tol * b_norm) {
      report.converged = true;
      break;
    }
    if (report.iterations >= options.max_iters) break;
    const auto ap = normal(p);
    const double curvature = scalar_product(p, ap);
    if (!(curvature > 0)) break;  // p in the null space (only through rounding) or NaN
    const double alpha = rs / curvature;
    x = x + alpha * p;
    r = r - alpha * ap;
    const double rs_next = scalar_product(r, r);
    p = r + (rs_next / rs) * p;
    rs = rs_next;
    ++report.iterations;
  }
  report.relative_residual = b_norm > 0 ? (b - normal(x)).norm().item<double>() / b_norm : 0.0;
  const double y_norm = y.norm().item<double>();
  report.data_residual = y_norm > 0 ? (A(x) - y).norm().item<double>() / y_norm : 0.0;
  result.x = x;
  return result;
}

}  // namespace zoo
