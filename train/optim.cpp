#include "train/optim.h"

#include <cmath>

namespace zoo {

const OptionTable<OptimOptions>& OptimOptions::table() {
  using O = OptimOptions;
  static const auto t =
      OptionTable<O>()
          .add("optim.name", &O::name, "optimizer: sgd, adam or adamw", one_of({"sgd", "adam", "adamw"}))
          .add("optim.lr", &O::lr, "peak learning rate (the schedule scales it)", greater_than(0.0))
          .add("optim.weight_decay", &O::weight_decay,
               "decoupled for adamw, L2 for adam and sgd; never applied to biases and norm weights",
               at_least(0.0))
          .add("optim.momentum", &O::momentum, "sgd momentum", in_range(0.0, 1.0))
          .add("optim.nesterov", &O::nesterov, "sgd Nesterov momentum")
          .add("optim.beta1", &O::beta1, "adam/adamw first-moment decay", in_range(0.0, 1.0))
          .add("optim.beta2", &O::beta2, "adam/adamw second-moment decay", in_range(0.0, 1.0))
          .add("optim.eps", &O::eps, "adam/adamw denominator term", greater_than(0.0))
          .rule([](const Config& cfg, const O& o) {
            cfg.require(!o.nesterov || o.momentum > 0, "optim.nesterov", "needs optim.momentum > 0");
          });
  return t;
}

const OptionTable<ScheduleOptions>& ScheduleOptions::table() {
  using S = ScheduleOptions;
  static const auto t =
      OptionTable<S>()
          .add("schedule.name", &S::name, "learning-rate shape after warmup: constant, linear, cosine or step",
               one_of({"constant", "linear", "cosine", "step"}))
          .add("schedule.warmup_steps", &S::warmup_steps,
               "linear warmup: lr * (s + 1) / warmup_steps for step s < warmup_steps", at_least<int64_t>(0))
          .add("schedule.warmup_ratio", &S::warmup_ratio,
               "or warmup over this share of the horizon (as Hugging Face's warmup_ratio)", in_range(0.0, 1.0))
          .add("schedule.total_steps", &S::total_steps, "horizon of linear/cosine decay; 0 = train.max_steps",
               at_least<int64_t>(0))
          .add("schedule.min_lr_ratio", &S::min_lr_ratio, "linear/cosine decay ends at lr * min_lr_ratio",
               in_range(0.0, 1.0, true))
          .add("schedule.step_size", &S::step_size, "step: multiply the lr by gamma every step_size steps",
               greater_than<int64_t>(0))
          .add("schedule.gamma", &S::gamma, "step: the factor", greater_than(0.0))
          .rule([](const Config& cfg, const S& s) {
            cfg.require(s.warmup_steps == 0 || s.warmup_ratio == 0, "schedule.warmup_ratio",
                        "cannot be combined with schedule.warmup_steps > 0 (set one of them to 0)");
          });
  return t;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimOptions& o,
                                                         torch::nn::Module& model) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : model.parameters()) {
    if (!p.requires_grad()) continue;
    (p.dim() <= 1 ? no_decay : decay).push_back(p);
  }
  auto groups = [&](auto options) {
    auto without = options;
    without.weight_decay(0.0);
    std::vector<torch::optim::OptimizerParamGroup> g;
    if (!decay.empty())
      g.emplace_back(decay, std::make_unique<decltype(options)>(options));
    if (!no_decay.empty())
      g.emplace_back(no_decay, std::make_unique<decltype(options)>(without));
    return g;
  };
  if (o.name == "sgd") {
    auto opt = torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.nesterov)
                   .weight_decay(o.weight_decay);
    return std::make_unique<torch::optim::SGD>(groups(opt), opt);
  }
  if (o.name == "adam") {
    auto opt = torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps)
                   .weight_decay(o.weight_decay);
    return std::make_unique<torch::optim::Adam>(groups(opt), opt);
  }
  auto opt = torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps)
                 .weight_decay(o.weight_decay);
  return std::make_unique<torch::optim::AdamW>(groups(opt), opt);
}

double learning_rate(const ScheduleOptions& s, double base_lr, int64_t step, int64_t total_steps) {
  const int64_t total = s.total_steps > 0 ? s.total_steps : total_steps;
  const int64_t warmup =
      s.warmup_steps > 0 ? s.warmup_steps : static_cast<int64_t>(std::ceil(s.warmup_ratio * static_cast<double>(total)));
  if (step < warmup) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (s.name == "constant") return base_lr;
  if (s.name == "step") return base_lr * std::pow(s.gamma, static_cast<double>(step / s.step_size));
  // Decay from the end of warmup to `total`, then stay at the floor.
  const double span = static_cast<double>(std::max<int64_t>(1, total - warmup));
  const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  const double shape = s.name == "linear" ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return base_lr * (s.min_lr_ratio + (1.0 - s.min_lr_ratio) * shape);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace zoo
