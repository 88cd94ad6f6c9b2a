// Strict configs: unknown keys, wrong types and out-of-range values name the key and the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "train/config.h"
#include "tests/scratch_dir.h"
#include "train/trainer.h"

namespace zoo {
namespace {

std::string write_temp(const testing::ScratchDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path_to(name + ".json");
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Config, FileOverridesDefaultsAndSetOverridesFile) {
  const testing::ScratchDir scratch("zoo_config");
  Config c(trainer_defaults());
  c.merge_file(write_temp(scratch, "cfg_ok", R"({"train": {"max_steps": 7}, "optim": {"lr": 1}})"));
  c.set("train.batch_size=3");
  c.set("optim.name=sgd");  // a bare word is a string
  EXPECT_EQ(c.at("train.max_steps"), 7);
  EXPECT_EQ(c.at("train.batch_size"), 3);
  EXPECT_EQ(c.at("optim.name"), "sgd");
  EXPECT_DOUBLE_EQ(c.at("optim.lr").get<double>(), 1.0);  // an integer may stand for a number
  EXPECT_EQ(train_options(c).max_steps, 7);
}

TEST(Config, UnknownKeyNamesKeyAndFile) {
  const testing::ScratchDir scratch("zoo_config");
  Config c(trainer_defaults());
  const std::string path = write_temp(scratch, "cfg_unknown", R"({"train": {"max_step": 7}})");
  const std::string e = error_of([&] { c.merge_file(path); });
  EXPECT_NE(e.find("train.max_step"), std::string::npos) << e;
  EXPECT_NE(e.find(path), std::string::npos) << e;
}

// Found by fuzzing (tests/fuzz/config_fuzz.cpp): a bare --set value that is not UTF-8 was kept
// as a string, and writing config.json then threw nlohmann's "invalid UTF-8 byte" naming no key;
// so did the "must be an integer, got ..." message for a key segment that is not UTF-8.
TEST(Config, SetKeyAndValueMustBeUtf8) {
  Config c(trainer_defaults());
  EXPECT_EQ(error_of([&] { c.set("optim.name=ad\xF6mw"); }), "--set optim.name: not valid UTF-8");
  EXPECT_EQ(error_of([&] { c.set("train.batch_size.\xFF=1"); }), "--set train.batch_size.\xFF: not valid UTF-8");
  c.set("optim.name=ad\xC3\xB6mw");  // UTF-8 is fine
  EXPECT_EQ(c.at("optim.name"), "ad\xC3\xB6mw");
  EXPECT_NO_THROW(c.values().dump());
}

// Found by fuzzing: nlohmann throws out_of_range (not parse_error) for a number beyond double,
// which escaped both readers as "[json.exception.out_of_range.406] ..." naming no file or key.
TEST(Config, NumberBeyondDoubleIsAnErrorNamingTheFileOrKey) {
  const testing::ScratchDir scratch("zoo_config");
  Config c(trainer_defaults());
  const std::string path = write_temp(scratch, "cfg_huge", R"({"optim": {"lr": 1e999}})");
  EXPECT_EQ(error_of([&] { c.merge_file(path); }), path + ": invalid JSON: number overflow parsing '1e999'");
  EXPECT_EQ(error_of([&] { c.set("optim.lr=1e999"); }),
            "--set optim.lr: key 'optim.lr' must be a number, got a string \"1e999\"");
}

TEST(Config, WrongTypeIsAnError) {
  Config c(trainer_defaults());
  EXPECT_NE(error_of([&] { c.set("train.max_steps=\"many\""); }).find("must be an integer"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set("train.max_steps=1.5"); }).find("train.max_steps"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set("train=3"); }).find("must be an object"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set("no_equals_sign"); }).find("key.path=value"), std::string::npos);
}

TEST(Config, OutOfRangeValueNamesTheOrigin) {
  const testing::ScratchDir scratch("zoo_config");
  Config c(trainer_defaults());
  const std::string path = write_temp(scratch, "cfg_range", R"({"train": {"max_steps": -4}})");
  c.merge_file(path);
  const std::string e = error_of([&] { train_options(c); });
  EXPECT_NE(e.find(path + ": train.max_steps must be >= 0 (got -4)"), std::string::npos) << e;
  c.set("train.max_steps=5");
  c.set("optim.name=lbfgs");
  const std::string o = error_of([&] { optim_options(c); });
  EXPECT_NE(o.find("--set optim.name: optim.name must be one of"), std::string::npos) << o;
}

TEST(Config, MalformedJsonNamesTheLine) {
  const testing::ScratchDir scratch("zoo_config");
  const std::string path = write_temp(scratch, "cfg_bad", "{\n  \"train\": {\n    \"max_steps\": 7,\n  }\n}\n");
  const std::string e = error_of([&] { read_json_file(path); });
  EXPECT_NE(e.find(path + ":4:"), std::string::npos) << e;
  EXPECT_EQ(error_of([] { read_json_file("/nonexistent/zoo.json"); }), "/nonexistent/zoo.json: missing");
}

}  // namespace
}  // namespace zoo
