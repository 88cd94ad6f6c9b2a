// Tokenizes a line with a small vocabulary and runs a tiny BERT on the ids: the installed
// headers (both spellings), libraries and their dependencies (ICU, LibTorch) all work.
#include <zoo/data/wordpiece.h>

#include <iostream>

#include "models/bert.h"

int main() {
  zoo::Vocab vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "un", "##aff",
                    "##able", ","});
  zoo::WordPieceTokenizer tokenizer(vocab);
  const std::vector<int64_t> ids = tokenizer.encode("Hello, unaffable world!");
  std::cout << "ids:";
  for (int64_t id : ids) std::cout << ' ' << id;
  std::cout << '\n';

  zoo::BertConfig config;
  config.vocab_size = vocab.size();
  config.hidden_size = 8;
  config.num_layers = 1;
  config.num_heads = 2;
  config.intermediate_size = 16;
  config.max_position = 16;
  zoo::BertForMaskedLM model(config);
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor input = torch::tensor(ids).unsqueeze(0);
  const torch::Tensor logits = model->forward(input, torch::ones_like(input), torch::zeros_like(input));
  std::cout << "logits:";
  for (int64_t size : logits.sizes()) std::cout << ' ' << size;
  std::cout << '\n';
  return 0;
}
