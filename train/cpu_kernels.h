#pragma once
// Which BLAS kernel this process runs, and the fix when it is the wrong one.
//
// LibTorch sends every fp32 matrix product of a Linear (all of BERT) to the system BLAS, on
// Debian OpenBLAS built with DYNAMIC_ARCH: it picks its kernel from the CPU model when it is
// loaded. A model it does not know (OpenBLAS 0.3.21 on recent Intel Xeons) gets the generic
// Prescott kernel, a third of the speed the CPU's AVX-512 kernel reaches. OpenBLAS reads
// OPENBLAS_CORETYPE only when it is loaded, so the fix is to start the process again with it set.
#include <string>

namespace zoo {

// The CPU's model name (/proc/cpuinfo), e.g. "AMD EPYC", or "unknown".
std::string cpu_model_name();

// The kernel OpenBLAS chose ("Haswell", "Prescott", ...), or "" when LibTorch's BLAS is not
// OpenBLAS.
std::string openblas_core();

// The fastest OpenBLAS fp32 kernel this CPU can run, from its instruction sets: "SkylakeX"
// (AVX-512 F/BW/VL/DQ), "Haswell" (AVX2 + FMA), "Sandybridge" (AVX), or "" (nothing better than
// the generic kernels).
std::string best_openblas_core();

// `best` when it is faster than `current`, the kernel OpenBLAS chose; "" when `current` is as
// good, or is a kernel this function does not rank (a newer OpenBLAS knows more CPUs than this
// list: trust it).
std::string better_openblas_core(const std::string& current, const std::string& best);

// Call first thing in main(). When OpenBLAS runs a slower kernel than this CPU supports and the
// user did not choose one (OPENBLAS_CORETYPE unset or empty), starts this program again with
// OPENBLAS_CORETYPE set to the better kernel (and ZOO_BLAS_RESTARTED to OpenBLAS's own choice);
// returns only when nothing is to be done or the restart failed (a warning on stderr).
// ZOO_BLAS_FIX=0 turns it off. Silent otherwise: a run names its kernel, and `zoo doctor` says
// what happened.
void use_best_blas_kernel(char** argv);

// "OpenBLAS SkylakeX (zoo's choice: OpenBLAS picked Prescott)", "OpenBLAS Haswell", or "" when
// LibTorch's BLAS is not OpenBLAS: for the line a run starts with.
std::string blas_kernel_summary();

}  // namespace zoo
