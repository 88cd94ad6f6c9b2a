#pragma once
// cxxopts as every zoo command uses it, in one place: the macro must be the same in every file
// that includes cxxopts.
#include <cstdlib>
#include <iostream>
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

// Parses a command line: -h/--help prints the help and exits 0; an unknown option or a value of
// the wrong type throws (cxxopts' exceptions are std::exceptions), for the caller's one-line error.
inline cxxopts::ParseResult parse_command_line(cxxopts::Options& o, int argc, char** argv) {
  auto args = o.parse(argc, argv);
  if (args.count("help")) {
    std::cout << o.help() << "\n";
    std::exit(0);
  }
  return args;
}

}  // namespace zoo
