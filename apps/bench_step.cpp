// bench_step: times our training step at exactly the configuration of a Python twin in
// ../shared/bench/peers/, on batches generated the same way (not timed), and prints one line
// "RESULT {json}" like the twins do. scripts/bench.sh runs both, alternating, and prints ratios.
//   bench_step --task mlm [--threads 2] [--warmup 3] [--steps 10]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>

#include "losses/masked_lm_loss.h"
#include "models/bert.h"
#include "train/optim.h"

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// bench_bert.py --task mlm: vocab 8192, hidden 256, 4 layers, 4 heads, FFN 1024, seq 128,
// batch 32, dropout 0.1, 15 % masked (80/10/10), AdamW(lr 1e-4, wd 0.01). Our step runs the
// decoder only at the masked positions, as training in this project does.
struct MlmBench {
  static constexpr int64_t V = 8192, B = 32, S = 128, CLS = 1, SEP = 2, MASK = 3;
  zoo::BertForMaskedLM model{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<std::array<torch::Tensor, 4>> batches;  // ids, mask, types, labels

  MlmBench() {
    zoo::BertConfig c;
    model = zoo::BertForMaskedLM(c);
    zoo::OptimOptions o;
    o.lr = 1e-4;
    o.weight_decay = 0.01;
    optimizer = zoo::make_optimizer(o, *model);
    auto g = at::detail::createCPUGenerator(1234);
    for (int i = 0; i < 4; ++i) {
      auto ids = torch::randint(5, V, {B, S}, g, torch::kInt64);
      ids.select(1, 0).fill_(CLS);
      ids.select(1, S - 1).fill_(SEP);
      auto prob = torch::rand({B, S}, g);
      prob.select(1, 0).fill_(1.0);
      prob.select(1, S - 1).fill_(1.0);
      const auto sel = prob < 0.15;
      auto labels = torch::full({B, S}, -100, torch::kInt64).masked_scatter(sel, ids.masked_select(sel));
      const auto r = torch::rand({B, S}, g);
      auto input = ids.clone().masked_fill(sel & (r < 0.8), MASK);
      const auto rnd = sel & (r >= 0.8) & (r < 0.9);
      input.masked_scatter_(rnd, torch::randint(5, V, {rnd.sum().item<int64_t>()}, g, torch::kInt64));
      batches.push_back({input, torch::ones({B, S}, torch::kInt64), torch::zeros({B, S}, torch::kInt64), labels});
    }
    model->train();
  }
  double tokens_per_step() const { return static_cast<double>(B * S); }
  void step(int i) {
    const auto& b = batches[static_cast<size_t>(i) % batches.size()];
    const auto labels = b[3].reshape({-1});
    const auto positions = (labels != -100).nonzero().squeeze(1);
    const auto logits = model->forward_at(b[0], b[1], b[2], positions);
    zoo::masked_lm_loss(logits, labels.index_select(0, positions)).backward();
    optimizer->step();
    model->zero_grad(/*set_to_none=*/true);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string task = "mlm";
  int threads = 2, warmup = 3, steps = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--task") task = value;
    else if (key == "--threads") threads = std::stoi(value);
    else if (key == "--warmup") warmup = std::stoi(value);
    else if (key == "--steps") steps = std::stoi(value);
    else {
      std::cerr << "bench_step: unknown option " << key << "\n";
      return 1;
    }
  }
  if (task != "mlm") {
    std::cerr << "bench_step: unknown task '" << task << "' (mlm)\n";
    return 1;
  }
  torch::manual_seed(0);
  torch::set_num_threads(threads);
  MlmBench bench;
  for (int i = 0; i < warmup; ++i) bench.step(i);
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    bench.step(i);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::cout << "RESULT {\"bench\": \"zoo_" << task << "\", \"threads\": " << threads
            << ", \"step_ms_median\": " << median * 1e3 << ", \"step_ms_min\": " << times.front() * 1e3
            << ", \"steps_per_s\": " << 1.0 / median << ", \"tokens_per_s\": " << bench.tokens_per_step() / median
            << ", \"peak_rss_mb\": " << peak_rss_mb() << "}\n";
  return 0;
}
