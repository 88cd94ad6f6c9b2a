#pragma once
// cxxopts as every zoo command uses it, in one place: the macro must be the same in every file
// that includes cxxopts.
#include <string>

// Repeated options (--set a.b=[1,2]) keep their commas: a value is never split.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

namespace zoo {

// A command's options, with -h/--help.
inline cxxopts::Options command_options(const std::string& program, const std::string& help) {
  cxxopts::Options o(program, help);
  o.add_options()("h,help", "show this help");
  return o;
}

}  // namespace zoo
