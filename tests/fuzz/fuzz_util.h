#pragma once
// What the libFuzzer targets share: the loaders take paths, so each input is written to a file
// in a private scratch folder, and every target checks the same contract on bad input.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "io/error.h"

namespace zoo::fuzz {

// A folder of this process's own under $TMPDIR (scripts/fuzz.sh points it into build-fuzz/),
// removed at exit.
inline const std::string& scratch_dir() {
  // On the heap and never freed: the atexit handler runs after static destructors would have.
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto* path = new std::string(std::string(tmp && *tmp ? tmp : "/tmp") + "/zoo-fuzz-XXXXXX");
    if (!::mkdtemp(path->data())) std::abort();
    return path;
  }();
  static const bool cleanup = std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(*dir, ec);
  }) == 0;
  (void)cleanup;
  return *dir;
}

// Writes bytes to `name` (may contain folders) in the scratch folder; returns the full path.
inline std::string write_file(const std::string& name, const void* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) std::abort();
  return path;
}

// The contract for bad input: a zoo::UserError whose message names the file (`names`) on one
// line, as the CLI prints it. The targets catch UserError only: any other exception escapes and
// libFuzzer records the input as a crash; a message that breaks the contract aborts.
inline void check_message(const UserError& e, const std::string& names) {
  const std::string what = e.what();
  if (what.find(names) == std::string::npos) {
    std::fprintf(stderr, "fuzz: error message does not name %s: %s\n", names.c_str(), what.c_str());
    std::abort();
  }
  if (what.find('\n') != std::string::npos) {
    std::fprintf(stderr, "fuzz: error message is not one line: %s\n", what.c_str());
    std::abort();
  }
}

// A property of a successful load that does not hold: the input is recorded as a crash.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace zoo::fuzz
