#include "train/tasks/mlm/task.h"

#include <cmath>
#include <filesystem>
#include <iostream>

#include "data/mlm_masking.h"
#include "data/sampling.h"
#include "data/text_corpus.h"
#include "data/wordpiece.h"
#include "losses/masked_lm_loss.h"
#include "models/bert.h"
#include "io/formats/hf_bert.h"
#include "train/hf_checkpoint.h"
#include "train/tasks/bert_common.h"
#include "train/tasks/mlm/evaluator.h"
#include "train/tasks/mlm/export.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

// Keys of an MLM batch.
const char* const kIds = "input_ids";
const char* const kMask = "attention_mask";
const char* const kTypes = "token_type_ids";
const char* const kLabels = "labels";

class MlmTask : public Task {
 public:
  MlmTask(const Config& cfg, const std::string& run_dir, TaskData data)
      : run_dir_(run_dir), o_(MlmOptions::table().read(cfg)) {
    for (const auto& f : o_.text_files)
      cfg.require(data == TaskData::kNone || fs::exists(f), "data.text_files", "names a file that does not exist: " + f);
    for (const auto& f : o_.extra_train_files)
      cfg.require(data == TaskData::kNone || fs::exists(f), "data.extra_train_files",
                  "names a file that does not exist: " + f);
    const TrainOptions train = train_options(cfg);
    batch_size_ = train.batch_size;
    seed_ = static_cast<uint64_t>(train.seed);
    eval_masking_ = o_.masking;
    eval_masking_.mask_probability = o_.eval_mask_probability;
    eval_masking_.whole_word = o_.eval_whole_word;

    TokenizerOptions tok;
    tok.lower_case = o_.lower_case;
    const std::string& hf_dir = o_.hf_checkpoint;
    BertConfig bert;
    PretrainedBert pretrained;
    bool load_pretrained_weights = false;
    if (!hf_dir.empty()) {
      // A published checkpoint brings its own architecture and vocabulary.
      cfg.require(run_has_checkpoint(run_dir_) || fs::is_directory(hf_dir), "init.hf_checkpoint", "is not a directory");
      pretrained = open_run_init_checkpoint(hf_dir, run_dir_, load_pretrained_weights);
      from_checkpoint_ = true;
      bert = pretrained.bert;
      tokenizer_ = pretrained_tokenizer(pretrained, cfg, "data.lower_case");
    } else {
      bert = o_.model;
      tokenizer_ = open_tokenizer(o_.vocab_file, run_dir_, o_.vocab_size, o_.vocab_min_frequency, tok, [&] {
                                    std::vector<std::string> texts;
                                    for (const auto& doc : split_documents().first)
                                      texts.insert(texts.end(), doc.begin(), doc.end());
                                    return texts;
                                  });
    }
    cfg.require(o_.max_seq_len <= bert.max_position, "data.max_seq_len", "must be <= model.max_position");
    const Vocab& vocab = tokenizer_->vocab();
    bert.vocab_size = vocab.size();
    bert.pad_token_id = vocab.pad_id;
    bert_config_ = bert;
    torch::manual_seed(static_cast<uint64_t>(train.seed));  // parameter init
    model_ = BertForMaskedLM(bert);
    if (load_pretrained_weights && !load_hf_bert_weights(pretrained.weights_path, *model_))
      std::cerr << "warning: " << pretrained.weights_path
                << " has no MLM head (cls.predictions.*): the head starts from a fresh initialisation, its decoder tied "
                   "to the checkpoint's word embeddings\n";

    masking_vocab_.vocab_size = vocab.size();
    masking_vocab_.mask_id = vocab.mask_id;
    for (int64_t id = 0; id < vocab.size(); ++id) {
      masking_vocab_.never_select.push_back(vocab.is_special(id));
      masking_vocab_.continuation.push_back(vocab.token(id).rfind("##", 0) == 0);
    }
  }

  Json resolved_settings() const override {
    if (!from_checkpoint_) return Json::object();
    return {{"data", {{"lower_case", tokenizer_->options().lower_case}}}};
  }

  std::string name() const override { return "mlm"; }
  torch::nn::Module& model() override { return *model_; }
  PrimaryMetric primary_metric() const override { return {"perplexity", false}; }
  std::unique_ptr<Evaluator> make_evaluator(const std::string&) override { return std::make_unique<MlmEvaluator>(); }

  Batch train_batch(int64_t index) override {
    load_sequences();
    std::vector<MaskedSequence> masked;
    for (int64_t t = 0; t < batch_size_; ++t) {
      const int64_t position = index * batch_size_ + t;
      const auto& seq = train_sequences_[static_cast<size_t>((*sampler_)(position))];
      masked.push_back(mask_sequence(seq, masking_vocab_, o_.masking, mix_seed(seed_, static_cast<uint64_t>(position))));
    }
    return collate(masked);
  }

  std::vector<Batch> eval_batches(const std::string& split) override {
    if (split != "val")
      throw UserError("mlm: split '" + split + "' does not exist (the text is split into train and val)");
    load_sequences();
    if (val_batches_.empty()) {
      // Masks fixed by data.eval_mask_seed, not train.seed: runs compare on identical targets.
      const size_t n = std::min(val_sequences_.size(), static_cast<size_t>(o_.val_max_sequences));
      for (size_t start = 0; start < n; start += static_cast<size_t>(o_.eval_batch_size)) {
        std::vector<MaskedSequence> masked;
        for (size_t i = start; i < std::min(n, start + static_cast<size_t>(o_.eval_batch_size)); ++i)
          masked.push_back(mask_sequence(val_sequences_[i], masking_vocab_, eval_masking_, mix_seed(o_.eval_mask_seed, i)));
        val_batches_.push_back(collate(masked));
      }
    }
    return val_batches_;
  }

  StepLosses training_step(const Batch& batch) override {
    const auto [logits, targets] = masked_logits(batch, kDecoderRowMultiple);
    const auto masked = (targets != kIgnoreLabel).sum().item<int64_t>();
    return {{{"mlm", masked_lm_loss(logits, targets, o_.loss)}}, static_cast<double>(masked)};
  }

  Batch predict(const Batch& batch) override {
    const auto [logits, targets] = masked_logits(batch);
    return {{"logits", logits}, {"targets", targets}};
  }

  void export_model(const std::string& dir) override {
    model_->eval();
    write_mlm_export(dir, *model_, bert_config_, *tokenizer_, o_.max_seq_len);
  }

 private:
  // Training documents and held-out documents: every k-th document (k = 1 / val_fraction) is
  // held out, so the split is deterministic and independent of the seed.
  std::pair<std::vector<Document>, std::vector<Document>> split_documents() const {
    std::vector<Document> docs;
    if (o_.text_files.empty()) {
      docs = embedded_corpus(o_.embedded_documents, 0);
    } else {
      for (const auto& f : o_.text_files)
        for (auto& doc : read_text_documents(f)) docs.push_back(std::move(doc));
    }
    const size_t every = std::max<size_t>(2, static_cast<size_t>(std::lround(1.0 / o_.val_fraction)));
    std::pair<std::vector<Document>, std::vector<Document>> split;
    for (size_t i = 0; i < docs.size(); ++i)
      (i % every == every - 1 ? split.second : split.first).push_back(std::move(docs[i]));
    if (split.second.empty() || split.first.empty())
      throw UserError("mlm: the text has " + std::to_string(docs.size()) +
                      " documents, too few for a train/val split");
    for (const auto& f : o_.extra_train_files)
      for (auto& doc : read_text_documents(f)) split.first.push_back(std::move(doc));
    return split;
  }

  std::vector<int64_t> encode_text(const std::string& text) const { return encode_corpus_text(*tokenizer_, text); }

  void load_sequences() {
    if (sampler_) return;
    auto [train_docs, val_docs] = split_documents();
    const Vocab& vocab = tokenizer_->vocab();
    auto pack = [&](const std::vector<Document>& docs) {
      std::vector<std::vector<int64_t>> ids;
      for (const auto& doc : docs) {
        ids.emplace_back();
        for (const auto& paragraph : doc) {
          const auto piece = encode_text(paragraph);
          ids.back().insert(ids.back().end(), piece.begin(), piece.end());
        }
      }
      return pack_sequences(ids, o_.max_seq_len, vocab.cls_id, vocab.sep_id);
    };
    train_sequences_ = pack(train_docs);
    val_sequences_ = pack(val_docs);
    if (train_sequences_.empty() || val_sequences_.empty())
      throw UserError("mlm: the text yields no training or validation sequence");
    sampler_ = std::make_unique<EpochSampler>(static_cast<int64_t>(train_sequences_.size()), seed_);
  }

  // Pads to the longest sequence of the batch.
  Batch collate(const std::vector<MaskedSequence>& seqs) const {
    size_t len = 0;
    for (const auto& s : seqs) len = std::max(len, s.input_ids.size());
    const auto n = static_cast<int64_t>(seqs.size()), t = static_cast<int64_t>(len);
    torch::Tensor ids = torch::full({n, t}, tokenizer_->vocab().pad_id, torch::kInt64);
    torch::Tensor labels = torch::full({n, t}, kIgnoreLabel, torch::kInt64);
    torch::Tensor mask = torch::zeros({n, t}, torch::kInt64);
    for (int64_t i = 0; i < n; ++i) {
      const auto& s = seqs[static_cast<size_t>(i)];
      const auto k = static_cast<int64_t>(s.input_ids.size());
      ids[i].narrow(0, 0, k).copy_(torch::tensor(s.input_ids));
      labels[i].narrow(0, 0, k).copy_(torch::tensor(s.labels));
      mask[i].narrow(0, 0, k).fill_(1);
    }
    return {{kIds, ids}, {kMask, mask}, {kTypes, torch::zeros_like(ids)}, {kLabels, labels}};
  }

  // The head runs only at masked positions: same loss, without the full-vocabulary decoder
  // at the other 85 % of positions. In training the rows are padded to a multiple of
  // kDecoderRowMultiple with ignored ones (pad_masked_rows): the masked count changes every step,
  // and under bf16 every new decoder shape made oneDNN build and cache new primitives, which grew
  // the 30-minute run's RSS to 5 GB (docs/tasks/mlm.md, "Memory").
  static constexpr int64_t kDecoderRowMultiple = 64;
  std::pair<torch::Tensor, torch::Tensor> masked_logits(const Batch& batch, int64_t row_multiple = 1) {
    const torch::Tensor labels = batch.at(kLabels).reshape({-1});
    const torch::Tensor masked = (labels != kIgnoreLabel).nonzero().squeeze(1);
    const auto [positions, targets] = pad_masked_rows(masked, labels.index_select(0, masked), row_multiple);
    const torch::Tensor logits =
        model_->forward_at(batch.at(kIds), batch.at(kMask), batch.at(kTypes), positions);
    return {logits, targets};
  }

  std::string run_dir_;
  MlmOptions o_;
  uint64_t seed_ = 0;
  int64_t batch_size_ = 0;
  MaskingOptions eval_masking_;
  MaskingVocab masking_vocab_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  bool from_checkpoint_ = false;  // init.hf_checkpoint set the tokenizer settings
  BertConfig bert_config_;
  BertForMaskedLM model_{nullptr};
  std::vector<std::vector<int64_t>> train_sequences_, val_sequences_;
  std::unique_ptr<EpochSampler> sampler_;
  std::vector<Batch> val_batches_;
};

}  // namespace

std::unique_ptr<Task> make_mlm_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<MlmTask>(cfg, run_dir, data);
}

TaskEntry mlm_task_entry() {
  return {"mlm", "mini-BERT masked language model (WordPiece, 15% masking, tied decoder)",
          mlm_task_defaults, mlm_option_docs, [](const Config& cfg, const std::string& run_dir, TaskData data) {
            return make_mlm_task(cfg, run_dir, data);
          }};
}

}  // namespace zoo
