#pragma once
// The one error type for bad user input (a config, a data file, a checkpoint, an argument): the
// CLI prints its message as one line and exits 1. It lives in the lowest layer so that every
// reader of user files can throw it.
#include <stdexcept>

namespace zoo {

struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace zoo
