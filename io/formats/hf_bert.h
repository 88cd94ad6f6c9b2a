#pragma once
// Mini-BERT in and out of the Hugging Face world: config.json and state dicts in the layout of
// HF's BertForMaskedLM (readable by Python's torch.load, read from Python's torch.save or
// safetensors). The TorchScript exports are in io/formats/bert_script.h.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/torch_save.h"
#include "io/weight_files.h"
#include "models/bert.h"

namespace zoo {

// HF BertForMaskedLM state-dict names <-> our parameters:
//   bert.embeddings.{word,position,token_type}_embeddings.weight, bert.embeddings.LayerNorm.*
//   bert.encoder.layer.{i}.attention.self.{query,key,value}.*      -> query, key, value
//   bert.encoder.layer.{i}.attention.output.dense.*                -> attention_output
//   bert.encoder.layer.{i}.attention.output.LayerNorm.*            -> attention_norm
//   bert.encoder.layer.{i}.intermediate.dense.*, .output.dense.*   -> intermediate, output
//   bert.encoder.layer.{i}.output.LayerNorm.*                      -> output_norm
//   bert.pooler.dense.*                    (only if our model has a pooler)
//   cls.predictions.transform.dense.*, cls.predictions.transform.LayerNorm.*
//   cls.predictions.bias                   -> decoder_bias
//   cls.predictions.decoder.weight/.bias   (= word embeddings and cls.predictions.bias, tied)
// (* = .weight and .bias.) Also accepted: LayerNorm parameters named gamma/beta (old TF
// conversions) and BertModel checkpoints without the "bert." prefix; position_ids buffers are
// ignored.

// HF keys: vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
// max_position_embeddings, type_vocab_size, hidden_dropout_prob, attention_probs_dropout_prob,
// layer_norm_eps, initializer_range, pad_token_id. A key that is absent takes HF's BertConfig
// default (as transformers does); other keys are ignored. hidden_act must be "gelu" and
// position_embedding_type (if present) "absolute": anything else is a UserError.
BertConfig read_hf_bert_config(const std::string& config_json_path);
// Writes the keys above plus "architectures": [architecture], "model_type": "bert",
// "hidden_act": "gelu", "position_embedding_type": "absolute" (atomically).
void write_hf_bert_config(const std::string& path, const BertConfig& c,
                          const std::string& architecture = "BertForMaskedLM");

// Loads a state dict in HF layout (model.safetensors, or a torch.save file such as
// pytorch_model.bin or our weights.pt: io/safetensors.h read_weights_file) into the model,
// converting dtype and keeping the model's device. Missing, unexpected or shape-mismatched keys
// are a UserError naming the file and the key. Ignored, as transformers ignores them:
// position_ids buffers, the pre-training heads our model lacks (bert.pooler.* for
// BertForMaskedLM, cls.seq_relationship.*), and for the encoder-only overload everything under
// cls.*. A pooler missing from the checkpoint keeps its fresh initialisation (fine-tuning an
// encoder from an MLM checkpoint, which has none). The MLM overload returns false when the
// checkpoint has no MLM head at all (a BertModel or sentence-transformers encoder): the encoder
// is loaded and the head keeps its fresh initialisation, for the caller to report.
bool load_hf_bert_weights(const std::string& weights_path, BertForMaskedLMImpl& model);
void load_hf_bert_weights(const std::string& weights_path, BertModelImpl& encoder);
// HF state-dict names and our tensors: BertForMaskedLM's ("bert." prefix, cls.predictions.*
// without the tied decoder entries, which transformers re-ties) and BertModel's (no prefix
// unless given).
NamedTensors hf_bert_state(BertForMaskedLMImpl& model);
NamedTensors hf_bert_state(BertModelImpl& encoder,
                                                                 const std::string& prefix = "");
// A torch.save-compatible dict (see write_torch_tensor_dict), written atomically; includes the
// tied cls.predictions.decoder.weight/.bias entries, as HF's state_dict() does.
void save_hf_bert_weights(const std::string& weights_path, BertForMaskedLMImpl& model);

}  // namespace zoo
