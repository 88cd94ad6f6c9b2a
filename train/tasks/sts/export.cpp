#include "train/tasks/sts/export.h"

#include <filesystem>

#include "io/export_format.h"
#include "io/weight_files.h"
#include "io/formats/hf_bert.h"
#include "io/formats/bert_onnx.h"
#include "io/formats/bert_script.h"
#include "train/hf_checkpoint.h"
#include "train/tasks/bert_common.h"

namespace zoo {

void write_sts_export(const std::string& dir, StsModelImpl& model, const StsModelOptions& options,
                      const WordPieceTokenizer& tokenizer, const std::vector<int64_t>& match_class,
                      int64_t max_seq_len) {
  std::filesystem::create_directories(dir);
  export_sts_torchscript(model, dir + "/model.pt");
  export_sts_onnx(model, dir + "/model.onnx");
  write_weight_files(dir, module_tensors(model, /*with_buffers=*/false));
  tokenizer.vocab().save(dir + "/vocab.txt");
  const bool cross = options.architecture == "cross";
  // The encoder for transformers (BertModel; a cross-encoder's head stays in model.pt), and for
  // a bi-encoder a sentence-transformers model.
  // (transformers' BERT is post-LN only: a pre-LN encoder has no hf/.)
  const bool hf = !model.bert->config.norm_first;
  if (hf)
    write_pretrained_bert(dir + "/hf", model.bert->config, "BertModel", hf_bert_state(*model.bert), tokenizer,
                          max_seq_len, cross ? "" : options.pooling, options.normalize);
  write_json_file(dir + "/meta.json",
                  {{"task", "sts"},
                   {"format_version", kExportFormatVersion},
                   {"tokenizer", tokenizer_meta(tokenizer)},
                   {"architecture", options.architecture},
                   {"head", options.head},
                   {"inputs", cross ? Json{"input_ids", "attention_mask", "token_type_ids", "match"}
                                    : Json{"ids_a", "mask_a", "ids_b", "mask_b"}},
                   {"input_dtype", "int64"},
                   {"layout", cross ? "[CLS] a [SEP] b [SEP]; token types 0 then 1; match = 0, or for a token "
                                      "also in the other sentence (specials never) 1, or 1 + "
                                      "match_class[token id] - 1 with IDF buckets"
                                    : "[CLS] sentence [SEP] each"},
                   {"pooling", cross ? Json(nullptr) : Json(options.pooling)},
                   {"normalize", !cross && options.normalize},
                   {"hf", hf ? Json("hf/ (transformers BertModel" + std::string(cross ? ")" : "; sentence-transformers)"))
                             : Json(nullptr)},
                   {"match_idf_buckets", options.match_idf_buckets},
                   {"match_class", match_class},
                   {"outputs", {"score"}},
                   {"onnx", "model.onnx"},
                   {"score_range", {options.min_score, options.max_score}},
                   {"vocab", "vocab.txt"},
                   {"lower_case", tokenizer.options().lower_case},
                   {"max_seq_len", max_seq_len}});
}

}  // namespace zoo
