#pragma once
// Self-contained TorchScript modules of the BERT models for inference, written against the HF
// parameter names of io/formats/hf_bert.h; loadable by torch::jit::load and Python's torch.jit.load
// without this project.
#include <string>

#include "models/bert.h"
#include "models/sts.h"

namespace zoo {

// TorchScript module (CPU): forward(input_ids, attention_mask, token_type_ids) -> logits [B,T,V],
// eval semantics (no dropout). Loadable by torch::jit::load and Python's torch.jit.load without
// this project. Saved atomically.
void export_bert_mlm_torchscript(BertForMaskedLMImpl& model, const std::string& path);
// TorchScript of an STS model, eval semantics, returning the predicted score [B]:
//   cross: forward(input_ids, attention_mask, token_type_ids, match)  (match: 0/1 per token)
//   bi:    forward(ids_a, mask_a, ids_b, mask_b), and embed(ids, mask) -> the sentence
//          embedding [B, H], pooled (and normalised) as the model does
void export_sts_torchscript(StsModelImpl& model, const std::string& path);

}  // namespace zoo
