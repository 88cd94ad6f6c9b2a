#pragma once
// Deterministic randomness for data: every random choice is a pure function of (seed, index),
// so results do not depend on worker count or thread timing, and a resumed run sees exactly the
// batches it would have seen.
#include <cstdint>
#include <random>
#include <vector>

namespace zoo {

// SplitMix64 finaliser of a combination of two values: a well-mixed seed for (a, b).
inline uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform integer in [0, n) from a 64-bit generator (portable, unlike std::uniform_int_distribution).
inline int64_t uniform_index(std::mt19937_64& rng, int64_t n) {
  return static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
}
// Uniform double in [0, 1).
inline double uniform_unit(std::mt19937_64& rng) { return (rng() >> 11) * 0x1.0p-53; }
// Uniform double in [lo, hi).
inline double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * uniform_unit(rng); }

// The sample index of the position-th draw of a run: a fresh permutation of [0, size) per
// epoch, seeded by (seed, epoch).
class EpochSampler {
 public:
  EpochSampler(int64_t size, uint64_t seed) : size_(size), seed_(seed) {}
  int64_t operator()(int64_t position) {
    const int64_t epoch = position / size_;
    if (epoch != epoch_) {
      perm_.resize(static_cast<size_t>(size_));
      for (int64_t i = 0; i < size_; ++i) perm_[static_cast<size_t>(i)] = i;
      std::mt19937_64 rng(mix_seed(seed_, static_cast<uint64_t>(epoch)));
      for (int64_t i = size_ - 1; i > 0; --i)  // Fisher-Yates
        std::swap(perm_[static_cast<size_t>(i)], perm_[static_cast<size_t>(uniform_index(rng, i + 1))]);
      epoch_ = epoch;
    }
    return perm_[static_cast<size_t>(position % size_)];
  }
  int64_t size() const { return size_; }

 private:
  int64_t size_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<int64_t> perm_;
};

}  // namespace zoo
