// bench_predict: what zoo::infer adds to an export's raw TorchScript forward. For one export
// (`zoo export` -> DIR/export) it times, at batch 1 on the same realistic input, alternating:
//   api  the typed predictor's call (preprocessing + forward + decoding): MaskedLM::fill,
//        SentenceSimilarity::score, HandPose::predict or RegionProposals::propose;
//   raw  module.forward alone on the exact tensors the predictor builds for that input.
// Median over repeats after warm-up, under InferenceMode; overhead = api - raw. bench_infer times
// the raw module on random inputs of the export's largest shape (max_seq_len for text), so its
// figure is an upper bound of `raw` for short texts.
// Inputs: text tasks a fixed sentence or pair (--text, --text-b); vision tasks --image PATH or a
// drawn 640 x 480 picture. Prints one line "RESULT {json}".
// --pairs FILE (sts): instead, the throughput of SentenceSimilarity::score over every pair of an
// STS file, alternating: one call with all pairs (run in chunks of similar length) against one
// call per 64 consecutive pairs of the file (each chunk padded to its own longest pair, as the
// predictor ran them before it sorted by length). Prints "RESULT {json}" with pairs_per_s of both.
#include <sys/resource.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cxxopts.hpp>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "data/sts_pairs.h"
#include "infer/predictors.h"
#include "train/cpu_kernels.h"

namespace {

using Json = nlohmann::json;

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A picture with edges and colour at a camera's size: resizing and normalising it costs what a
// photograph of that size costs (the content does not change the work).
cv::Mat drawn_picture() {
  cv::Mat image(480, 640, CV_8UC3, cv::Scalar(90, 120, 150));
  cv::rectangle(image, {100, 80}, {300, 330}, {30, 200, 60}, cv::FILLED);
  cv::circle(image, {460, 240}, 110, {220, 40, 40}, cv::FILLED);
  cv::randn(image, cv::Scalar::all(128), cv::Scalar::all(40));
  return image;
}

struct Timing {
  double api_ms = 0, raw_ms = 0;
};

// Warm-up of both (TorchScript's profiling executor optimises during the first calls), then
// api and raw alternately, so that a slow phase of the machine hits both.
Timing time_both(const std::function<void()>& api, const std::function<void()>& raw, int warmup, int repeats) {
  for (int i = 0; i < warmup; ++i) api(), raw();
  std::vector<double> a, r;
  for (int i = 0; i < repeats; ++i) {
    a.push_back(seconds(api));
    r.push_back(seconds(raw));
  }
  return {median_of(a) * 1e3, median_of(r) * 1e3};
}

std::vector<int64_t> shape_of(const torch::Tensor& t) { return t.sizes().vec(); }

}  // namespace

int main(int argc, char** argv) {
  zoo::use_best_blas_kernel(argv);  // as zoo and train_<task> do: the same kernel as a user gets
  cxxopts::Options options("bench_predict", "zoo::infer predictor vs raw TorchScript forward, batch 1");
  options.add_options()("export", "export directory (zoo export)", cxxopts::value<std::string>())(
      "threads", "LibTorch threads", cxxopts::value<int>()->default_value("2"))(
      "warmup", "untimed calls of each first", cxxopts::value<int>()->default_value("3"))(
      "repeats", "timed calls of each", cxxopts::value<int>()->default_value("20"))(
      "image", "picture for vision tasks (default: a drawn 640 x 480)", cxxopts::value<std::string>())(
      "text", "sentence (mlm: with [MASK]; sts: the first of the pair)",
      cxxopts::value<std::string>()->default_value(""))(
      "text-b", "sts: the second sentence",
      cxxopts::value<std::string>()->default_value("A person is playing the guitar on a stage."))(
      "pairs", "sts: throughput over the pairs of this STS file (see the header)", cxxopts::value<std::string>())(
      "h,help", "this help");
  try {
    const auto args = options.parse(argc, argv);
    if (args.count("help") || !args.count("export")) {
      std::cout << options.help() << "\n";
      return args.count("help") ? 0 : 1;
    }
    const std::string dir = args["export"].as<std::string>();
    const int threads = args["threads"].as<int>(), warmup = args["warmup"].as<int>();
    const int repeats = args["repeats"].as<int>();
    if (threads < 1 || warmup < 0 || repeats < 1) throw std::invalid_argument("--threads, --repeats >= 1, --warmup >= 0");
    torch::set_num_threads(threads);
    torch::manual_seed(0);

    // The raw side: its own copy of model.pt, loaded as the predictor loads it (the vision
    // predictors optimise it for inference).
    const zoo::infer::ExportDir e(dir, {"mlm", "sts", "keypoints", "heatmap", "rpn"});
    const bool vision = e.task() != "mlm" && e.task() != "sts";
    torch::jit::Module raw_module = e.load_module(torch::kCPU, /*optimize=*/vision);
    std::vector<torch::jit::IValue> raw_inputs;
    std::function<void()> api;
    Json input;

    if (args.count("pairs")) {
      if (e.task() != "sts") throw std::invalid_argument("--pairs is for sts exports");
      const std::string path = args["pairs"].as<std::string>();
      const auto range = e.get<std::vector<double>>("score_range");
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const auto& p : zoo::load_sts_pairs(path, zoo::detect_sts_format(path), range.at(0), range.at(1)))
        pairs.emplace_back(p.s1, p.s2);
      const zoo::infer::SentenceSimilarity sts(dir);
      const auto sorted = [&] { sts.score(pairs); };
      const auto file_order = [&] {
        for (size_t start = 0; start < pairs.size(); start += 64)
          sts.score({pairs.begin() + static_cast<std::ptrdiff_t>(start),
                     pairs.begin() + static_cast<std::ptrdiff_t>(std::min(pairs.size(), start + 64))});
      };
      const Timing t = time_both(sorted, file_order, warmup, repeats);
      const double n = static_cast<double>(pairs.size());
      std::cout << "RESULT "
                << Json{{"bench", "predict_sts_pairs"}, {"threads", threads}, {"pairs", pairs.size()},
                        {"file", path}, {"sorted_pairs_per_s", n / t.api_ms * 1e3},
                        {"file_order_pairs_per_s", n / t.raw_ms * 1e3}, {"repeats", repeats}}
                       .dump()
                << "\n";
      return 0;
    }

    if (e.task() == "mlm") {
      const std::string text = args["text"].as<std::string>().empty()
                                   ? "the president of the united [MASK] was born in new york ."
                                   : args["text"].as<std::string>();
      auto predictor = std::make_shared<zoo::infer::MaskedLM>(dir);
      const auto ids = torch::tensor(predictor->encode(text)).unsqueeze(0);
      raw_inputs = {ids, torch::ones_like(ids), torch::zeros_like(ids)};
      api = [predictor, text] { predictor->fill(text, 5); };
      input = {{"text", text}, {"shape", shape_of(ids)}};
    } else if (e.task() == "sts") {
      const std::string a = args["text"].as<std::string>().empty() ? "A man is playing a guitar."
                                                                     : args["text"].as<std::string>();
      const std::string b = args["text-b"].as<std::string>();
      auto predictor = std::make_shared<zoo::infer::SentenceSimilarity>(dir);
      const auto batch = predictor->encode({{a, b}});
      for (const auto& name : e.get<std::vector<std::string>>("inputs")) raw_inputs.emplace_back(batch.at(name));
      api = [predictor, a, b] { predictor->score(a, b); };
      input = {{"pair", {a, b}}, {"shape", shape_of(raw_inputs.front().toTensor())}};
    } else {
      cv::Mat image = args.count("image") ? cv::imread(args["image"].as<std::string>(), cv::IMREAD_COLOR)
                                          : drawn_picture();
      if (image.empty()) throw std::runtime_error(args["image"].as<std::string>() + ": cannot read the image");
      input = {{"image", args.count("image") ? args["image"].as<std::string>() : "drawn"},
               {"image_size", {image.cols, image.rows}}};
      if (e.task() == "rpn") {
        auto predictor = std::make_shared<zoo::infer::RegionProposals>(dir);
        const auto [images, sizes] = predictor->preprocess({image});
        raw_inputs = {images, sizes};
        api = [predictor, image] { predictor->propose(image); };
        input["shape"] = shape_of(images);
      } else {
        auto predictor = std::make_shared<zoo::infer::HandPose>(dir);
        const auto x = predictor->preprocess(image).unsqueeze(0);
        raw_inputs = {x};
        api = [predictor, image] { predictor->predict(image); };
        input["shape"] = shape_of(x);
      }
    }
    const auto raw = [&raw_module, &raw_inputs] {
      torch::InferenceMode guard;
      raw_module.forward(raw_inputs);
    };
    const Timing t = time_both(api, raw, warmup, repeats);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const Json result = {{"bench", "predict_" + e.task()},
                         {"threads", threads},
                         {"input", input},
                         {"api_ms_b1", t.api_ms},
                         {"raw_ms_b1", t.raw_ms},
                         {"overhead_ms", t.api_ms - t.raw_ms},
                         {"overhead_share", (t.api_ms - t.raw_ms) / t.api_ms},
                         {"repeats", repeats},
                         {"peak_rss_mb", static_cast<double>(usage.ru_maxrss) / 1024.0}};
    std::cout << "RESULT " << result.dump() << "\n";
  } catch (const std::exception& ex) {
    std::cerr << "bench_predict: " << ex.what() << "\n";
    return 1;
  }
  return 0;
}
