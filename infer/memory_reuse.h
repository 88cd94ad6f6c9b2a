#pragma once
// Keeping freed memory for the next inference call (glibc only).
//
// glibc's malloc serves large blocks from fresh mmap()s and gives freed memory back to the
// kernel, so every call of a model touches its activations' pages anew and pays a page fault per
// 4 KiB. Measured (docs/speed.md, "zoo::infer against ONNX Runtime"; 1 thread): the RPN export at
// batch 1 16.9 -> 10.7 ms, the keypoint ResNet at batch 32 673 -> 533 ms, peak RSS no higher at
// fixed shapes. ONNX Runtime keeps its own arena for the same reason.
//
// keep_freed_memory_between_calls() sets M_MMAP_THRESHOLD and M_TRIM_THRESHOLD to 1 GiB, once
// per process: blocks under 1 GiB come from the heap, and up to 1 GiB of freed memory stays at its
// top for reuse. The training binaries keep all freed memory and trim it themselves every few
// hundred steps (train/train_options.h); a library does not own its host's loop, hence the
// bound here. This is process-wide, so it is skipped when the user tuned glibc already
// (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES set) or set
// ZOO_MALLOC_DEFAULTS=1, the training binaries' switch. ExportDir::load_module calls it, so every
// predictor does. Returns whether the settings are in force.
namespace zoo::infer {

bool keep_freed_memory_between_calls();

}  // namespace zoo::infer
