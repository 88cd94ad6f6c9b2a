// bench_infer: inference speed of an exported TorchScript model (`zoo export` -> DIR/export) in
// C++: latency at batch 1 and throughput at batch 32, median over repeats after warm-up, under
// InferenceMode. Inputs are random, shaped from the export's meta.json:
//   "inputs": ["input_ids", "attention_mask", ...] with "input_dtype": "int64" (BERT tasks):
//             [B, max_seq_len] (or --seq); ids uniform over vocab.txt, masks 1, token types 0
//             then 1 (second half), "match" 0/1;
//   "inputs": [{"name", "shape", "dtype"}, ...] or "input": {"shape", "dtype"}: the shape with
//             its -1 (batch) replaced, float32 N(0, 1) (int64: zeros);
//   "input": {"images", "image_sizes", "max_size"} (detection): square images of max_size
//             rounded up to a multiple of 32, as the export pads them, and their sizes.
// The module is loaded as zoo::infer's predictors load it (ExportDir::load_module), so freed
// memory is kept for the next call (infer/memory_reuse.h); --glibc-malloc keeps glibc's
// defaults instead. --optimize times the module after torch::jit::optimize_for_inference
// (freezing, Conv+BN folding, oneDNN convolutions), as HandPose and RegionProposals run it.
// The result ("infer_<task>") says which in "optimized" and "glibc_malloc".
// Prints one line "RESULT {json}".
//   bench_infer --export DIR [--threads 2] [--warmup 3] [--repeats 10] [--seq N] [--batch 32] [--optimize] [--glibc-malloc]
#include <sys/resource.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/command_options.h"
#include "infer/export_dir.h"
#include "train/cpu_kernels.h"

namespace {

using Json = nlohmann::json;

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int64_t count_lines(const std::string& path) {
  std::ifstream in(path);
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// One input of the model: its name, shape with -1 where the batch goes, and dtype.
struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
  bool int64 = false;
  int64_t fill = 0;  // value of an int64 input not recognised by name
};

std::vector<int64_t> batch_shape(const std::vector<int64_t>& shape, int64_t batch) {
  std::vector<int64_t> s = shape;
  for (auto& d : s)
    if (d < 0) d = batch;
  return s;
}

std::vector<InputSpec> read_inputs(const Json& meta, int64_t seq) {
  std::vector<InputSpec> specs;
  const auto spec_of = [](const Json& j, const std::string& name) {
    return InputSpec{j.value("name", name), j.at("shape").get<std::vector<int64_t>>(),
                     j.value("dtype", "float32") == "int64", 0};
  };
  if (meta.contains("inputs") && meta["inputs"].is_array()) {
    const bool int64 = meta.value("input_dtype", "float32") == "int64";
    for (const auto& item : meta["inputs"]) {
      if (item.is_string()) {
        if (seq <= 0) seq = meta.value("max_seq_len", int64_t{128});
        specs.push_back({item.get<std::string>(), {-1, seq}, int64});
      } else {
        specs.push_back(spec_of(item, "input" + std::to_string(specs.size())));
      }
    }
  } else if (meta.contains("input") && meta["input"].contains("image_sizes")) {
    const int64_t side = (meta["input"].value("max_size", int64_t{800}) + 31) / 32 * 32;
    specs.push_back({"images", {-1, 3, side, side}, false});
    specs.push_back({"image_sizes", {-1, 2}, true, side});
  } else if (meta.contains("input") && meta["input"].is_object()) {
    specs.push_back(spec_of(meta["input"], "input"));
  }
  if (specs.empty()) throw std::runtime_error("meta.json names no inputs ('inputs' or 'input')");
  return specs;
}

// Token-level inputs by name (see the header); anything else by dtype.
torch::Tensor make_input(const InputSpec& spec, int64_t batch, int64_t vocab) {
  const auto shape = batch_shape(spec.shape, batch);
  if (!spec.int64) return torch::randn(shape);
  const auto has = [&](const char* word) { return spec.name.find(word) != std::string::npos; };
  if (has("mask")) return torch::ones(shape, torch::kInt64);
  if (has("type")) {
    auto t = torch::zeros(shape, torch::kInt64);
    t.narrow(-1, shape.back() / 2, shape.back() - shape.back() / 2).fill_(1);
    return t;
  }
  if (has("match")) return torch::randint(0, 2, shape, torch::kInt64);
  if (has("ids")) {
    const int64_t v = vocab > 5 ? vocab : 1000;  // no vocab.txt: any small id range will do
    return torch::randint(5, v, shape, torch::kInt64);
  }
  return torch::full(shape, spec.fill, torch::kInt64);
}

// Median seconds of one forward at `batch`.
double time_forward(torch::jit::Module& module, const std::vector<InputSpec>& specs, int64_t batch, int64_t vocab,
                    int warmup, int repeats) {
  std::vector<torch::jit::IValue> inputs;
  for (const auto& s : specs) inputs.emplace_back(make_input(s, batch, vocab));
  // TorchScript's profiling executor optimises the graph during the first calls: warm-up >= 2.
  for (int i = 0; i < warmup; ++i) module.forward(inputs);
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    module.forward(inputs);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return median_of(times);
}

}  // namespace

int main(int argc, char** argv) {
  zoo::use_best_blas_kernel(argv);  // as zoo and train_<task> do: the same kernel as a user gets
  auto o = zoo::command_options("bench_infer", "inference speed of an exported TorchScript model in C++");
  o.add_options()("export", "export directory (zoo export writes RUN/export)", cxxopts::value<std::string>())(
      "threads", "LibTorch threads", cxxopts::value<int>()->default_value("2"))(
      "warmup", "untimed calls first", cxxopts::value<int>()->default_value("3"))(
      "repeats", "timed calls", cxxopts::value<int>()->default_value("10"))(
      "seq", "BERT tasks: sequence length (0: the export's max_seq_len)", cxxopts::value<int64_t>()->default_value("0"))(
      "batch", "throughput batch size", cxxopts::value<int64_t>()->default_value("32"))(
      "optimize", "time the module after torch::jit::optimize_for_inference")(
      "glibc-malloc", "keep glibc's malloc settings (zoo::infer keeps freed memory for reuse)");
  std::string dir;
  int threads = 0, warmup = 0, repeats = 0;
  int64_t seq = 0, batch = 0;
  bool optimize = false, glibc_malloc = false;
  try {
    const auto args = zoo::parse_command_line(o, argc, argv);
    if (args.count("export")) dir = args["export"].as<std::string>();
    threads = args["threads"].as<int>();
    warmup = args["warmup"].as<int>();
    repeats = args["repeats"].as<int>();
    seq = args["seq"].as<int64_t>();
    batch = args["batch"].as<int64_t>();
    optimize = args.count("optimize") > 0;
    glibc_malloc = args.count("glibc-malloc") > 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_infer: " << e.what() << "\n";
    return 1;
  }
  if (dir.empty() || threads < 1 || warmup < 0 || repeats < 1 || batch < 1) {
    std::cerr << "usage: bench_infer --export DIR [--threads N] [--warmup N] [--repeats N>=1] [--seq N] [--batch N]\n";
    return 1;
  }
  try {
    std::ifstream meta_file(dir + "/meta.json");
    if (!meta_file) throw std::runtime_error(dir + "/meta.json: cannot open");
    const Json meta = Json::parse(meta_file);
    const auto specs = read_inputs(meta, seq);
    const int64_t vocab = meta.contains("vocab") ? count_lines(dir + "/" + meta["vocab"].get<std::string>()) : 0;
    torch::set_num_threads(threads);
    torch::manual_seed(0);
    if (glibc_malloc) setenv("ZOO_MALLOC_DEFAULTS", "1", 1);  // before the first load_module
    const zoo::infer::ExportDir export_dir(dir, {meta.value("task", "").c_str()});
    torch::jit::Module module = export_dir.load_module(torch::kCPU);
    int64_t params = 0;
    for (const auto& p : module.parameters()) params += p.numel();
    if (optimize) module = torch::jit::optimize_for_inference(module);  // as load_module(device, true)
    c10::InferenceMode inference;
    const double b1 = time_forward(module, specs, 1, vocab, warmup, repeats);
    const double bn = time_forward(module, specs, batch, vocab, warmup, repeats);
    std::cout << "RESULT {\"bench\": \"infer_" << meta.value("task", "model") << "\", \"threads\": " << threads
              << ", \"optimized\": " << (optimize ? "true" : "false")
              << ", \"glibc_malloc\": " << (glibc_malloc ? "true" : "false")
              << ", \"input_shape\": " << Json(batch_shape(specs.front().shape, 1)).dump()
              << ", \"params\": " << params << ", \"vocab\": " << vocab << ", \"latency_ms_b1\": " << b1 * 1e3
              << ", \"batch\": " << batch << ", \"batch_ms\": " << bn * 1e3
              << ", \"throughput_per_s\": " << static_cast<double>(batch) / bn << ", \"peak_rss_mb\": " << peak_rss_mb()
              << "}\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_infer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
