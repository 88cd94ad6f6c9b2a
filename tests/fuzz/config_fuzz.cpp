// libFuzzer target: the config parser. The input is read as a config file (Config::merge_file)
// and each of its lines as a `--set` assignment (Config::set), onto defaults shaped like a task's
// (objects, integers, floats, strings, booleans, a null default). A config that was accepted can
// be written as config.json (dumped) and read back by key; a rejected one is a UserError naming
// the file or the --set key.
#include <cstddef>
#include <cstdint>
#include <sstream>

#include "tests/fuzz/fuzz_util.h"
#include "train/config.h"

namespace {

zoo::Config defaults() {
  return zoo::Config(zoo::Json::parse(R"({
    "task": "sts", "seed": 0, "resume": false, "pretrained": null,
    "model": {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "intermediate_size": 512,
              "architecture": "cross", "head": "distribution", "dropout": 0.1},
    "data": {"train_file": "", "format": "auto", "synthetic_pairs": 4000, "max_seq_len": 64,
             "vocab_size": 500, "mean": [0.485, 0.456, 0.406]},
    "optim": {"name": "adamw", "lr": 5e-4, "weight_decay": 0.01},
    "schedule": {"name": "linear", "warmup_steps": 40},
    "train": {"max_steps": 300, "batch_size": 32, "log_every_steps": 20, "eval_every_steps": 100,
              "ckpt_every_steps": 100},
    "eval": {"batch_size": 64, "pictures": true}})"));
}

// What the trainer does with an accepted config: writes it and reads keys back.
void use(const zoo::Config& config) {
  (void)config.values().dump(2);
  (void)config.at("train.batch_size");
  try {
    config.fail("optim.lr", "is checked");
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, "optim.lr");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = zoo::fuzz::write_file("config.json", data, size);
  try {
    zoo::Config config = defaults();
    config.merge_file(path);
    use(config);
  } catch (const zoo::UserError& e) {
    zoo::fuzz::check_message(e, path);
  }
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  zoo::Config config = defaults();
  for (std::string line; std::getline(lines, line);) {
    try {
      config.set(line);
      use(config);
    } catch (const zoo::UserError& e) {
      zoo::fuzz::check_message(e, "--set");
    }
  }
  return 0;
}
