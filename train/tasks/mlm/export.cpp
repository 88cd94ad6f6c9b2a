#include "train/tasks/mlm/export.h"

#include <filesystem>

#include "io/export_format.h"
#include "io/safetensors.h"
#include "io/formats/hf_bert.h"
#include "io/formats/bert_onnx.h"
#include "io/formats/bert_script.h"
#include "train/hf_checkpoint.h"
#include "train/tasks/bert_common.h"

namespace zoo {

void write_mlm_export(const std::string& dir, BertForMaskedLMImpl& model, const BertConfig& config,
                      const WordPieceTokenizer& tokenizer, int64_t max_seq_len) {
  std::filesystem::create_directories(dir);
  export_bert_mlm_torchscript(model, dir + "/model.pt");
  export_bert_mlm_onnx(model, dir + "/model.onnx");
  save_hf_bert_weights(dir + "/weights.pt", model);
  write_hf_bert_config(dir + "/config.json", config);
  write_safetensors(dir + "/weights.safetensors", hf_bert_state(model));
  tokenizer.vocab().save(dir + "/vocab.txt");
  // transformers' BERT is post-LN only: a pre-LN model has no hf/ (config.json says zoo_norm_first).
  if (!config.norm_first)
    write_pretrained_bert(dir + "/hf", config, "BertForMaskedLM", hf_bert_state(model), tokenizer,
                          max_seq_len);
  write_json_file(dir + "/meta.json",
                  {{"task", "mlm"},
                   {"format_version", kExportFormatVersion},
                   {"tokenizer", tokenizer_meta(tokenizer)},
                   {"inputs", {"input_ids", "attention_mask", "token_type_ids"}},
                   {"input_dtype", "int64"},
                   {"outputs", {"logits"}},
                   {"onnx", "model.onnx"},
                   {"vocab", "vocab.txt"},
                   {"hf", config.norm_first ? Json(nullptr) : Json("hf/ (transformers BertForMaskedLM)")},
                   {"lower_case", tokenizer.options().lower_case},
                   {"max_seq_len", max_seq_len},
                   {"special_ids", {{"pad", tokenizer.vocab().pad_id},
                                    {"cls", tokenizer.vocab().cls_id},
                                    {"sep", tokenizer.vocab().sep_id},
                                    {"mask", tokenizer.vocab().mask_id}}}});
}

}  // namespace zoo
