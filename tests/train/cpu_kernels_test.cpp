#include "train/cpu_kernels.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace zoo {
namespace {

TEST(CpuKernels, AGenericKernelIsReplacedByTheWidestTheCpuRuns) {
  EXPECT_EQ(better_openblas_core("Prescott", "SkylakeX"), "SkylakeX");  // the Intel Xeon of issue #28
  EXPECT_EQ(better_openblas_core("Nehalem", "Haswell"), "Haswell");
  EXPECT_EQ(better_openblas_core("Sandybridge", "Haswell"), "Haswell");
  EXPECT_EQ(better_openblas_core("Haswell", "SkylakeX"), "SkylakeX");  // a Zen 4 that 0.3.21 calls Haswell
}

TEST(CpuKernels, AKernelAsWideOrUnknownIsKept) {
  EXPECT_EQ(better_openblas_core("Haswell", "Haswell"), "");
  EXPECT_EQ(better_openblas_core("Zen", "Haswell"), "");             // Zen runs the Haswell kernels
  EXPECT_EQ(better_openblas_core("Cooperlake", "SkylakeX"), "");     // same width, and bf16 besides
  EXPECT_EQ(better_openblas_core("SapphireRapids", "SkylakeX"), "");
  EXPECT_EQ(better_openblas_core("NEOVERSEN1", "SkylakeX"), "");     // a name this list does not rank
  EXPECT_EQ(better_openblas_core("", "SkylakeX"), "");               // not OpenBLAS
  EXPECT_EQ(better_openblas_core("Prescott", ""), "");               // no wider instructions
}

TEST(CpuKernels, TheMachineIsDescribed) {
  EXPECT_FALSE(cpu_model_name().empty());
  // Debian's LibTorch links libblas.so.3, which scripts/setup.sh points at OpenBLAS.
  const std::string core = openblas_core();
  EXPECT_FALSE(core.empty()) << "LibTorch's BLAS is not OpenBLAS";
  // This process was not restarted (tests call no use_best_blas_kernel), so the kernel is
  // OpenBLAS's own choice or the one OPENBLAS_CORETYPE forced (the kernel matrix script).
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE"); forced && *forced) {
    EXPECT_EQ(core, forced);
  }
}

}  // namespace
}  // namespace zoo
