#include "train/optim.h"

#include <cmath>

namespace zoo {

Json to_json(const OptimOptions& o) {
  return {{"name", o.name},         {"lr", o.lr},       {"weight_decay", o.weight_decay},
          {"momentum", o.momentum}, {"nesterov", o.nesterov}, {"beta1", o.beta1},
          {"beta2", o.beta2},       {"eps", o.eps}};
}

Json to_json(const ScheduleOptions& o) {
  return {{"name", o.name},           {"warmup_steps", o.warmup_steps}, {"warmup_ratio", o.warmup_ratio},
          {"total_steps", o.total_steps}, {"min_lr_ratio", o.min_lr_ratio},
          {"step_size", o.step_size}, {"gamma", o.gamma}};
}

OptimOptions optim_options(const Config& cfg) {
  const Json& j = cfg.at("optim");
  OptimOptions o;
  o.name = j.at("name").get<std::string>();
  o.lr = j.at("lr").get<double>();
  o.weight_decay = j.at("weight_decay").get<double>();
  o.momentum = j.at("momentum").get<double>();
  o.nesterov = j.at("nesterov").get<bool>();
  o.beta1 = j.at("beta1").get<double>();
  o.beta2 = j.at("beta2").get<double>();
  o.eps = j.at("eps").get<double>();
  cfg.require(o.name == "sgd" || o.name == "adam" || o.name == "adamw", "optim.name",
              "must be one of sgd, adam, adamw");
  cfg.require(o.lr > 0, "optim.lr", "must be > 0");
  cfg.require(o.weight_decay >= 0, "optim.weight_decay", "must be >= 0");
  cfg.require(o.momentum >= 0 && o.momentum < 1, "optim.momentum", "must be in [0, 1)");
  cfg.require(!o.nesterov || o.momentum > 0, "optim.nesterov", "needs optim.momentum > 0");
  cfg.require(o.beta1 >= 0 && o.beta1 < 1, "optim.beta1", "must be in [0, 1)");
  cfg.require(o.beta2 >= 0 && o.beta2 < 1, "optim.beta2", "must be in [0, 1)");
  cfg.require(o.eps > 0, "optim.eps", "must be > 0");
  return o;
}

ScheduleOptions schedule_options(const Config& cfg) {
  const Json& j = cfg.at("schedule");
  ScheduleOptions s;
  s.name = j.at("name").get<std::string>();
  s.warmup_steps = j.at("warmup_steps").get<int64_t>();
  s.warmup_ratio = j.at("warmup_ratio").get<double>();
  s.total_steps = j.at("total_steps").get<int64_t>();
  s.min_lr_ratio = j.at("min_lr_ratio").get<double>();
  s.step_size = j.at("step_size").get<int64_t>();
  s.gamma = j.at("gamma").get<double>();
  cfg.require(s.name == "constant" || s.name == "linear" || s.name == "cosine" || s.name == "step",
              "schedule.name", "must be one of constant, linear, cosine, step");
  cfg.require(s.warmup_steps >= 0, "schedule.warmup_steps", "must be >= 0");
  cfg.require(s.warmup_ratio >= 0 && s.warmup_ratio < 1, "schedule.warmup_ratio", "must be in [0, 1)");
  cfg.require(s.warmup_steps == 0 || s.warmup_ratio == 0, "schedule.warmup_ratio",
              "cannot be combined with schedule.warmup_steps > 0 (set one of them to 0)");
  cfg.require(s.total_steps >= 0, "schedule.total_steps", "must be >= 0");
  cfg.require(s.min_lr_ratio >= 0 && s.min_lr_ratio <= 1, "schedule.min_lr_ratio",
              "must be in [0, 1]");
  cfg.require(s.step_size > 0, "schedule.step_size", "must be > 0");
  cfg.require(s.gamma > 0, "schedule.gamma", "must be > 0");
  return s;
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
