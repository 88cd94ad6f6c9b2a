#include "apps/predict.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <set>

#include "data/drawing.h"
#include "data/hand_sample.h"
#include "data/image_file.h"
#include "data/utf8.h"
#include "apps/command_options.h"
#include "apps/run_commands.h"
#include "infer/predictors.h"
#include "io/atomic_file.h"
#include "io/error.h"
#include "io/user_file.h"
#include "train/plot.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

// What we echo of the user's input: a control character (an escape sequence, a carriage return)
// is shown as \xNN instead of acting on the terminal.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

// Text inputs must be what a training file may hold: UTF-8 (data/utf8.h), checked before the
// tokenizer would read the bytes as something else.
void check_text_inputs(const std::vector<std::string>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!valid_utf8(inputs[i]))
      throw UserError("zoo predict: input " + std::to_string(i + 1) + " is not valid UTF-8 (text tasks read UTF-8, as "
                      "their training files are): '" + printable(inputs[i].substr(0, 60)) + "'");
}

cv::Mat read_input_image(const std::string& path) {
  if (const std::string kind = describe_path(path); kind != "a regular file")
    throw UserError(path + (kind == "missing" ? ": no such image file" : ": is " + kind + ", not an image file"));
  try {
    return read_image_file(path, cv::IMREAD_COLOR);
  } catch (const std::runtime_error& e) {
    throw UserError(e.what());  // names the file
  }
}

// DIR/<stem><suffix>; inputs of one call that share a stem (a/x.png, b/x.png) get <stem>_2<suffix>,
// ... instead of overwriting each other's picture.
std::string picture_path(const PredictOptions& o, const std::string& input, const std::string& suffix,
                         std::set<std::string>& used) {
  fs::create_directories(o.pictures_dir);
  const std::string stem = fs::path(input).stem().string();
  std::string name = stem + suffix;
  for (int n = 2; !used.insert(name).second; ++n) name = stem + "_" + std::to_string(n) + suffix;
  return (fs::path(o.pictures_dir) / name).string();
}

void fill_masks(const std::string& dir, const std::vector<std::string>& texts, const PredictOptions& o,
                std::ostream& out) {
  const infer::MaskedLM mlm(dir, o.device);
  for (const std::string& text : texts) {
    std::vector<std::vector<infer::MaskedLM::Candidate>> masks;
    try {
      masks = mlm.fill(text, o.top_k);
    } catch (const std::runtime_error& e) {
      throw UserError(std::string("predict: ") + printable(e.what()));
    }
    out << printable(text) << "\n";
    for (size_t m = 0; m < masks.size(); ++m) {
      out << "  [MASK] " << m + 1 << ":";
      for (const auto& c : masks[m]) out << "  " << c.token << " " << std::fixed << std::setprecision(3) << c.probability;
      out << "\n";
    }
  }
  out << std::defaultfloat;
}

void score_pairs(const std::string& dir, const std::vector<std::string>& inputs, const PredictOptions& o,
                 std::ostream& out) {
  if (inputs.size() % 2 != 0)
    throw UserError("predict: sts needs sentence pairs: an even number of inputs (A1 B1 A2 B2 ...)");
  const infer::SentenceSimilarity sts(dir, o.device);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < inputs.size(); i += 2) pairs.emplace_back(inputs[i], inputs[i + 1]);
  const std::vector<double> scores = sts.score(pairs);
  for (size_t i = 0; i < pairs.size(); ++i)
    out << std::fixed << std::setprecision(3) << scores[i] << "\t" << printable(pairs[i].first) << "\t"
        << printable(pairs[i].second) << "\n";
  out << std::defaultfloat;
}

void hand_poses(const std::string& dir, const std::vector<std::string>& paths, const PredictOptions& o,
                std::ostream& out) {
  const infer::HandPose pose(dir, o.device);
  std::set<std::string> used;  // picture names of this call
  for (const std::string& path : paths) {
    const cv::Mat image = read_input_image(path);
    const infer::HandJoints joints = pose.predict(image);
    // Drawn at least 384 pixels wide so that the skeleton is visible on a small crop.
    cv::Mat picture = image.clone();
    std::vector<cv::Point2d> uv = joints.uv;
    const double up = std::max(1.0, 384.0 / std::max(picture.cols, picture.rows));
    if (up > 1) {
      cv::resize(picture, picture, cv::Size(), up, up, cv::INTER_LINEAR);
      for (auto& p : uv) p = (p + cv::Point2d(0.5, 0.5)) * up - cv::Point2d(0.5, 0.5);
    }
    draw_skeleton(picture, uv, false, std::max(2, std::max(picture.cols, picture.rows) / 160));
    const std::string target = picture_path(o, path, "_pred.png", used);
    write_png(target, picture);

    out << path << ": predicted skeleton drawn in " << target << "\n";
    out << std::fixed << std::setprecision(1);
    if (pose.is_3d()) {
      out << "  3D root-relative (wrist = 0) in mm, assuming the mean training hand size (wrist to middle MCP "
          << pose.typical_scale_mm() << " mm); 2D drawn with an assumed focal length of "
          << pose.typical_focal_per_image_size()
          << " x image side and the hand centred at the typical training size (a bare image has no intrinsics)\n";
      out << "  " << std::left << std::setw(12) << "joint" << std::right << std::setw(8) << "x" << std::setw(8) << "y"
          << std::setw(8) << "z" << std::setw(9) << "u" << std::setw(8) << "v" << "\n";
    } else {
      out << "  2D joints in pixels of " << path << "\n";
      out << "  " << std::left << std::setw(12) << "joint" << std::right << std::setw(9) << "u" << std::setw(8) << "v"
          << "\n";
    }
    for (size_t j = 0; j < joints.uv.size(); ++j) {
      out << "  " << std::left << std::setw(12) << pose.joint_names()[j] << std::right;
      if (pose.is_3d())
        out << std::setw(8) << joints.xyz_mm[j].x << std::setw(8) << joints.xyz_mm[j].y << std::setw(8)
            << joints.xyz_mm[j].z;
      out << std::setw(9) << joints.uv[j].x << std::setw(8) << joints.uv[j].y << "\n";
    }
    out << std::defaultfloat;
  }
}

void region_proposals(const std::string& dir, const std::vector<std::string>& paths, const PredictOptions& o,
                      std::ostream& out) {
  const infer::RegionProposals rpn(dir, o.device);
  std::set<std::string> used;  // picture names of this call
  for (const std::string& path : paths) {
    const cv::Mat image = read_input_image(path);
    const std::vector<infer::Proposal> proposals = rpn.propose(image);
    // The top 20 in colour, best last so that it is on top: red (best) to blue.
    cv::Mat picture = image.clone();
    const auto top = static_cast<int64_t>(std::min<size_t>(20, proposals.size()));
    for (int64_t i = top - 1; i >= 0; --i) {
      const double f = top > 1 ? static_cast<double>(i) / static_cast<double>(top - 1) : 0;
      const auto& b = proposals[static_cast<size_t>(i)].box;
      draw_boxes(picture, torch::tensor({b[0], b[1], b[2], b[3]}, torch::kDouble).view({1, 4}),
                 cv::Scalar(255 * f, 64, 255 * (1 - f)), 2);
    }
    const std::string target = picture_path(o, path, "_proposals.png", used);
    write_png(target, picture);
    out << path << ": " << proposals.size() << " proposals; the top " << top << " drawn in " << target << "\n";
    out << std::fixed;
    for (size_t i = 0; i < std::min<size_t>(10, proposals.size()); ++i) {
      const auto& p = proposals[i];
      out << "  " << std::setprecision(3) << p.score << std::setprecision(1) << "  (" << p.box[0] << ", " << p.box[1]
          << ", " << p.box[2] << ", " << p.box[3] << ")\n";
    }
    out << std::defaultfloat;
  }
}

}  // namespace

void predict_with_export(const std::string& dir, const std::vector<std::string>& inputs, const PredictOptions& o,
                         std::ostream& out) {
  std::string task;
  try {
    task = infer::ExportDir(dir, {"mlm", "sts", "keypoints", "heatmap", "rpn"}).task();
  } catch (const std::runtime_error& e) {
    throw UserError(e.what());
  }
  if (task == "mlm" || task == "sts") check_text_inputs(inputs);
  if (task == "mlm") fill_masks(dir, inputs, o, out);
  else if (task == "sts") score_pairs(dir, inputs, o, out);
  else if (task == "rpn") region_proposals(dir, inputs, o, out);
  else hand_poses(dir, inputs, o, out);
}

namespace {

// Removes a temporary export when predict ends, however it ends.
struct TemporaryDirectory {
  std::string path;
  ~TemporaryDirectory() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
};

}  // namespace

int predict_command(int argc, char** argv) {
  auto o = command_options("zoo predict",
                           "Run a trained model on inputs given on the command line, through the zoo::infer API: "
                           "an export directory, or a run's best model exported to a temporary one.");
  o.add_options()("run", "run directory", cxxopts::value<std::string>())(
      "export", "export directory (zoo export writes RUN/export)", cxxopts::value<std::string>())(
      "out", "where pictures go (default RUN/predictions, or ./predictions with --export)",
      cxxopts::value<std::string>())("top-k", "mlm: candidates per [MASK] (default: the run's eval.top_k, or 5)",
                                     cxxopts::value<int64_t>())(
      "device", "cpu or cuda (default: the run's train.device, or cpu)", cxxopts::value<std::string>())(
      "set", "override a key of the run's config, repeatable", cxxopts::value<std::vector<std::string>>());
  o.positional_help("INPUT...");
  // Inputs are taken verbatim from the unmatched arguments: a cxxopts vector option would split
  // sentences at commas.
  o.allow_unrecognised_options();
  const auto args = parse_command_line(o, argc, argv);
  if (args.count("run") == args.count("export")) throw UserError("zoo predict: give one of --run DIR and --export DIR");
  std::vector<std::string> inputs;
  for (const auto& a : args.unmatched()) {
    if (a.rfind("--", 0) == 0) throw UserError("zoo predict: unknown option '" + a + "'");
    inputs.push_back(a);
  }
  if (inputs.empty()) throw UserError("zoo predict: no INPUT given");
  PredictOptions options;
  std::string export_dir;
  std::unique_ptr<RunLock> lock;
  TemporaryDirectory temporary;
  if (args.count("export")) {
    export_dir = args["export"].as<std::string>();
    options.pictures_dir = "predictions";
  } else {
    const std::string run_dir = args["run"].as<std::string>();
    std::vector<std::string> sets;
    if (args.count("set")) sets = args["set"].as<std::vector<std::string>>();
    Config config{Json::object()};
    auto task = open_run(run_dir, sets, lock, "zoo predict", TaskData::kNone, &options.device, &config);
    if (task->name() == "mlm") options.top_k = config.at("eval.top_k").get<int64_t>();
    // The same files `zoo export` writes, in a private folder: the run's own export/ may be older
    // than its best checkpoint, and predict must not write into a run it only reads.
    // Named by the process ("zoo-predict.<pid>.<random>.tmp"): what a killed predict left is
    // removed by the next one.
    const std::string base = (fs::temp_directory_path() / "zoo-predict").string();
    remove_abandoned_directories(base);
    temporary.path = export_dir = temporary_directory(base);
    task->model().to(torch::kCPU);
    task->export_model(export_dir);
    options.pictures_dir = run_dir + "/predictions";
  }
  if (args.count("out")) options.pictures_dir = args["out"].as<std::string>();
  if (args.count("top-k")) options.top_k = args["top-k"].as<int64_t>();
  if (options.top_k < 1) throw UserError("zoo predict: --top-k must be >= 1");
  if (args.count("device")) options.device = torch::Device(args["device"].as<std::string>());
  predict_with_export(export_dir, inputs, options, std::cout);
  return 0;
}

}  // namespace zoo
