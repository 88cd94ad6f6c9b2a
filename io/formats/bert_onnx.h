#pragma once
// ONNX graphs of the BERT models (io/formats/onnx_graph.h), node for node the TorchScript of
// io/formats/bert_script.h: same inputs (int64), same outputs, eval semantics. Batch and sequence
// lengths are dynamic ("batch", "sequence"; a bi-encoder's two sentences have their own).
#include <string>

#include "models/bert.h"
#include "models/sts.h"

namespace zoo {

// (input_ids, attention_mask, token_type_ids) -> logits [batch, sequence, vocab].
void export_bert_mlm_onnx(BertForMaskedLMImpl& model, const std::string& path);
// The predicted score [batch]: cross (input_ids, attention_mask, token_type_ids, match);
// bi (ids_a, mask_a, ids_b, mask_b), as export_sts_torchscript's forward.
void export_sts_onnx(StsModelImpl& model, const std::string& path);

}  // namespace zoo
