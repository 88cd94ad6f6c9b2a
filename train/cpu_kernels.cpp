#include "train/cpu_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <cerrno>
#include <map>

namespace zoo {

std::string cpu_model_name() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
  }
  return "unknown";
}

std::string openblas_core() {
  // Looked up at run time: LibTorch links libblas.so.3, which may be OpenBLAS, the reference
  // BLAS or another; only OpenBLAS has this function.
  using CoreName = char* (*)();
  const auto get = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = get ? get() : nullptr;
  return name ? name : "";
}

std::string best_openblas_core() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // The SkylakeX kernels use AVX-512 F, BW, VL and DQ; Haswell's use AVX2 and FMA3.
  // (__builtin_cpu_supports also checks that the OS saves the wider registers.)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return "";
}

namespace {

// OpenBLAS's x86-64 kernels by the widest instructions their fp32 GEMM uses; a higher level is
// faster on a CPU that has it. Names as openblas_get_corename() spells them.
int kernel_level(const std::string& core) {
  static const std::map<std::string, int> levels = {
      {"Prescott", 0},    {"Core2", 0},      {"Penryn", 0},        {"Dunnington", 0},   {"Nehalem", 0},
      {"Atom", 0},        {"Opteron", 0},    {"Opteron_SSE3", 0},  {"Barcelona", 0},    {"Bobcat", 0},
      {"Sandybridge", 1}, {"Bulldozer", 1},  {"Piledriver", 1},    {"Steamroller", 1},  {"Excavator", 1},
      {"Haswell", 2},     {"Zen", 2},        {"SkylakeX", 3},      {"Cooperlake", 3},   {"SapphireRapids", 3},
  };
  const auto it = levels.find(core);
  return it == levels.end() ? -1 : it->second;
}

}  // namespace

std::string better_openblas_core(const std::string& current, const std::string& best) {
  const int now = kernel_level(current), could = kernel_level(best);
  return now >= 0 && could > now ? best : "";
}

void use_best_blas_kernel(char** argv) {
  const char* chosen = std::getenv("OPENBLAS_CORETYPE");
  if ((chosen && *chosen) || std::getenv("ZOO_BLAS_RESTARTED")) return;  // the user's choice, or done
  const char* fix = std::getenv("ZOO_BLAS_FIX");
  if (fix && std::strcmp(fix, "0") == 0) return;
  const std::string current = openblas_core();
  const std::string better = better_openblas_core(current, best_openblas_core());
  if (better.empty()) return;
  ::setenv("OPENBLAS_CORETYPE", better.c_str(), 1);
  // Never twice, whatever OpenBLAS picks then; `zoo doctor` reports what it had picked.
  ::setenv("ZOO_BLAS_RESTARTED", current.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // Only a failed restart is worth a line here; a run names its kernel (blas_kernel_summary).
  std::cerr << "zoo: warning: could not restart with OPENBLAS_CORETYPE=" << better << " (" << std::strerror(errno)
            << "); going on with OpenBLAS's " << current << " kernel" << std::endl;
  ::unsetenv("OPENBLAS_CORETYPE");
  ::unsetenv("ZOO_BLAS_RESTARTED");
}

std::string blas_kernel_summary() {
  const std::string core = openblas_core();
  if (core.empty()) return "";
  const char* replaced = std::getenv("ZOO_BLAS_RESTARTED");
  return "OpenBLAS " + core + (replaced ? std::string(" (zoo's choice: OpenBLAS picked ") + replaced + ")" : "");
}

}  // namespace zoo
