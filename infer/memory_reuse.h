#pragma once
// Keeping freed memory for the next inference call (glibc only).
//
// glibc's malloc serves large blocks from fresh mmap()s and gives freed memory back to the
// kernel, so every call of a model touches its activations' pages anew and pays a page fault
// per 4 KiB. Measured on an AMD EPYC (Zen 3), 1 thread: the RPN export at batch 1 took 16.9 ms
// with glibc's defaults and 10.7 ms with freed memory kept; the sts export 7.8 against 7.5 ms;
// peak memory (max RSS) the same within 6 % (docs/speed.md). ONNX Runtime keeps its own arena
// for the same reason.
//
// keep_freed_memory_for_reuse() sets M_MMAP_THRESHOLD and M_TRIM_THRESHOLD to 1 GiB, once per
// process: blocks under 1 GiB come from the heap and freed ones stay there for reuse. This is
// process-wide, so it is skipped when the user tuned glibc already (MALLOC_MMAP_THRESHOLD_,
// MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES set) or set ZOO_MALLOC_TUNING=0. The predictors of
// infer/predictors.h call it when they load a model. Returns whether the settings are in force.
namespace zoo::infer {

bool keep_freed_memory_for_reuse();

}  // namespace zoo::infer
