#pragma once
// Folders under the temp directory that remove themselves. Every test writes its files into one,
// so that a test run leaves nothing behind in /tmp, passed or failed: leftovers of repeated runs
// once filled users' disks (17 GB).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace zoo::testing {

// TEMP/<prefix>_<pid>, created empty; removed with everything in it when the object goes out of
// scope. The pid keeps processes that run at once (ctest -j) apart; two objects alive at once in
// one process need different prefixes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix)
      : path_(std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);  // what a killed process of the same pid left
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;  // a destructor must not throw; a file that cannot go stays
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // PATH/NAME; nothing is created there.
  std::string path_to(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// "zoo_<suite>_<test>" of the test running now, '/' of parameterised names made '_' (one folder,
// not a tree whose parents would stay behind).
inline std::string current_test_folder_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("zoo_") + info->test_suite_name() + "_" + info->name();
  for (char& c : name)
    if (c == '/') c = '_';
  return name;
}

// A fixture that gives each test a fresh ScratchDir, removed after the test whether it passed,
// failed or was skipped. Use: `class MySuite : public zoo::testing::ScratchDirTest {};`.
class ScratchDirTest : public ::testing::Test {
 protected:
  // A path in this test's folder; nothing is created there.
  std::string temp_path(const std::string& name) const { return scratch_.path_to(name); }
  // Writes BYTES to the file NAME in this test's folder; returns its path.
  std::string write_temp(const std::string& name, const std::string& bytes) const {
    const std::string path = temp_path(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  const ScratchDir scratch_{current_test_folder_name()};
};

}  // namespace zoo::testing
