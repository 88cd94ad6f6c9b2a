#pragma once
// Masked-LM metrics over a whole split, token-weighted: perplexity exp(sum NLL / masked tokens)
// (not a mean of batch perplexities), loss, accuracy and top-5 accuracy at the masked positions.
#include <cstdint>

#include "train/task.h"

namespace zoo {

// Reads Task::predict's "logits" [N, V] and "targets" [N] (the masked positions only).
class MlmEvaluator : public Evaluator {
 public:
  void reset() override { nll_ = 0, count_ = 0, correct_ = 0, top5_ = 0; }
  void process(const Batch& batch, const Batch& outputs) override;
  Metrics summarize() override;

 private:
  double nll_ = 0;
  int64_t count_ = 0, correct_ = 0, top5_ = 0;
};

}  // namespace zoo
