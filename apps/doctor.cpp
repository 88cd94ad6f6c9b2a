#include "apps/doctor.h"

#include "apps/command_options.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include <torch/torch.h>

#include "train/cpu_kernels.h"
#include "train/memory_check.h"

namespace zoo {

namespace {

namespace fs = std::filesystem;

struct Report {
  int failures = 0;
  void line(const char* status, const std::string& what, const std::string& detail) {
    std::printf("%-5s %-14s %s\n", status, what.c_str(), detail.c_str());
    if (std::string(status) == "FAIL") ++failures;
  }
};

// The shared object this process mapped whose file name contains `part` ("blas"), or "".
std::string mapped_library(const std::string& part) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (fs::path(path).filename().string().find(part) != std::string::npos) return path;
  }
  return "";
}

// GFLOP/s of a 512x512 float matmul: OpenBLAS gives tens per core, the reference BLAS about one.
double matmul_gflops() {
  const auto a = torch::randn({512, 512}), b = torch::randn({512, 512});
  torch::mm(a, b);  // warm-up: thread pool, page faults
  const auto start = std::chrono::steady_clock::now();
  int runs = 0;
  double seconds = 0;
  while (seconds < 0.3) {
    torch::mm(a, b);
    ++runs;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return 2.0 * 512 * 512 * 512 * runs / seconds / 1e9;
}

std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  return buf;
}

}  // namespace

int check_machine(const std::string& run_parent) {
  Report r;
  r.line("ok", "libtorch", TORCH_VERSION);
  r.line("ok", "opencv", CV_VERSION);

  const std::string blas = mapped_library("blas");
  const double gflops = matmul_gflops();
  char speed[64];
  std::snprintf(speed, sizeof speed, "%.1f GFLOP/s on a 512x512 matmul", gflops);
  const bool reference = blas.find("openblas") == std::string::npos && blas.find("mkl") == std::string::npos;
  // The reference BLAS here: ~1 GFLOP/s; OpenBLAS ~35x that (scripts/setup.sh).
  r.line(reference && gflops < 5 ? "WARN" : "ok", "blas",
         (blas.empty() ? std::string("(LibTorch's own)") : blas) + ", " + speed +
             (reference && gflops < 5 ? "; install libopenblas0-openmp (scripts/setup.sh)" : ""));
  // OpenBLAS's kernel: a generic one on a CPU with wider instructions runs BERT's matrix
  // products at a third of the speed (issue #28: Prescott on an Intel Xeon with AVX-512).
  const std::string core = openblas_core();
  const char* restarted = std::getenv("ZOO_BLAS_RESTARTED");  // OpenBLAS's own choice, replaced
  const std::string own_choice = restarted ? restarted : core;
  const std::string better = better_openblas_core(own_choice, best_openblas_core());
  if (!core.empty()) {
    const char* forced = std::getenv("OPENBLAS_CORETYPE");
    if (forced && !*forced) forced = nullptr;
    std::string detail = core + " (" + cpu_model_name() + ")";
    if (restarted)
      detail += ", chosen by zoo: OpenBLAS picked " + own_choice + ", a slower kernel than this CPU supports; " +
                "a program of yours that links zoo gets " + core + " with: export OPENBLAS_CORETYPE=" + core;
    else if (!better.empty())
      detail += forced ? std::string(", forced by OPENBLAS_CORETYPE=") + forced +
                             ": a slower kernel than this CPU supports; unset it or set it to " + better
                       : ", a slower kernel than this CPU supports: export OPENBLAS_CORETYPE=" + better;
    r.line(better.empty() ? "ok" : "WARN", "blas kernel", detail);
  }

  const unsigned cores = std::thread::hardware_concurrency();
  const char* omp = std::getenv("OMP_NUM_THREADS");
  r.line("ok", "threads",
         std::to_string(cores) + " cores; zoo uses train.threads (0 = all cores, fewer while other processes use them)" +
             (omp ? std::string(", OMP_NUM_THREADS=") + omp : std::string()));

  const double memory = available_memory_bytes();
  r.line(memory > 0 && memory < 2e9 ? "WARN" : "ok", "memory",
         memory > 0 ? gigabytes(memory) + " available" : std::string("unknown (no /proc/meminfo)"));

  // The run directory's parent: writable, and how much room checkpoints have.
  fs::path dir = run_parent.empty() ? fs::path("runs") : fs::path(run_parent);
  while (!dir.empty() && !fs::exists(dir) && dir.has_parent_path() && dir.parent_path() != dir) dir = dir.parent_path();
  if (dir.empty() || !fs::exists(dir)) dir = ".";
  struct statvfs fsinfo {};
  if (::statvfs(dir.c_str(), &fsinfo) == 0) {
    const double free_bytes = static_cast<double>(fsinfo.f_bavail) * static_cast<double>(fsinfo.f_frsize);
    r.line(free_bytes < 1e9 ? "WARN" : "ok", "disk", gigabytes(free_bytes) + " free in " + dir.string());
  }
  r.line(::access(dir.c_str(), W_OK) == 0 ? "ok" : "FAIL", "writable",
         dir.string() + (::access(dir.c_str(), W_OK) == 0 ? " is writable" : " is not writable: choose another --out"));

  r.line("ok", "cuda",
         torch::cuda::is_available() ? std::to_string(torch::cuda::device_count()) + " device(s): --device cuda works"
                                     : "not available (CPU build or no GPU): --device cpu");
  std::string codecs;
  for (const char* ext : {".jpg", ".png"})  // by extension: the codecs OpenCV was built with
    if (!cv::haveImageWriter(ext)) codecs += std::string(codecs.empty() ? "" : ", ") + ext;
  r.line(codecs.empty() ? "ok" : "FAIL", "images", codecs.empty() ? "OpenCV reads and writes JPEG and PNG"
                                                                  : "OpenCV lacks " + codecs);
  return r.failures == 0 ? 0 : 1;
}

int doctor_command(int argc, char** argv) {
  auto o = command_options("zoo doctor", "Check what a run depends on, one line each; exit 1 on a failure.");
  o.add_options()("out", "where run directories will go", cxxopts::value<std::string>()->default_value("runs"));
  const auto args = o.parse(argc, argv);
  if (args.count("help")) {
    std::cout << o.help() << "\n";
    return 0;
  }
  return check_machine(args["out"].as<std::string>());
}

}  // namespace zoo
