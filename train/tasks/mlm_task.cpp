#include "io/export_format.h"
#include "train/tasks/mlm_task.h"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "data/mlm_masking.h"
#include "data/sampling.h"
#include "data/text_corpus.h"
#include "data/wordpiece.h"
#include "losses/masked_lm_loss.h"
#include "models/bert.h"
#include "io/safetensors.h"
#include "train/bert_io.h"
#include "train/bert_script.h"
#include "train/hf_checkpoint.h"
#include "train/tasks/bert_common.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

Json mlm_task_defaults() {
  Json j = trainer_defaults();
  j["task"] = "mlm";
  j["model"] = bert_model_defaults();
  j["data"] = {{"text_files", Json::array()},  // empty: the embedded generated corpus
               // More text for training only (all of it; none held out): validation stays on
               // text_files' held-out documents.
               {"extra_train_files", Json::array()},
               {"embedded_documents", 4000},
               {"val_fraction", 0.1},
               {"max_seq_len", 128},
               {"vocab_file", ""},  // empty: learn one from the training text (DIR/vocab.txt)
               {"vocab_size", 8192},
               {"vocab_min_frequency", 2},
               {"lower_case", true},
               {"val_max_sequences", 1024},
               {"eval_mask_seed", 1234}};
  const MaskingOptions m;
  j["loss"] = {{"mask_probability", m.mask_probability},
               {"mask_token_ratio", m.mask_token_ratio},
               {"random_token_ratio", m.random_token_ratio},
               {"whole_word", m.whole_word},
               {"label_smoothing", 0.0}};
  // Validation masks on its own settings, not the training ones: runs that train with another
  // masking rate or whole-word masking are still scored on the same task and the same targets.
  j["eval"] = {{"batch_size", 32},
               {"top_k", 5},
               {"mask_probability", m.mask_probability},
               {"whole_word", m.whole_word}};
  // A BERT directory as Hugging Face or sentence-transformers publish it, or an export
  // (train/hf_checkpoint.h); without an MLM head in it, the head starts fresh (with a warning).
  j["init"] = {{"hf_checkpoint", ""}};
  j["optim"]["lr"] = 5e-4;
  j["optim"]["weight_decay"] = 0.01;
  j["schedule"]["name"] = "linear";
  j["schedule"]["warmup_steps"] = 100;
  return j;
}

namespace {

// Keys of an MLM batch.
const char* const kIds = "input_ids";
const char* const kMask = "attention_mask";
const char* const kTypes = "token_type_ids";
const char* const kLabels = "labels";

class MlmEvaluator : public Evaluator {
 public:
  void reset() override { nll_ = 0, count_ = 0, correct_ = 0, top5_ = 0; }
  void process(const Batch&, const Batch& out) override {
    const torch::Tensor logits = out.at("logits").to(torch::kFloat64);
    const torch::Tensor targets = out.at("targets");
    if (targets.numel() == 0) return;
    nll_ += torch::nn::functional::cross_entropy(
                logits, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
    count_ += targets.numel();
    correct_ += (logits.argmax(-1) == targets).sum().item<int64_t>();
    const auto top = std::get<1>(logits.topk(std::min<int64_t>(5, logits.size(1)), -1));
    top5_ += (top == targets.unsqueeze(1)).any(1).sum().item<int64_t>();
  }
  // Token-weighted over the whole split: exp(sum NLL / masked tokens), not a mean of batch
  // perplexities.
  Metrics summarize() override {
    const double n = std::max<int64_t>(1, count_);
    return {{"perplexity", std::exp(nll_ / n)}, {"loss", nll_ / n},
            {"accuracy", correct_ / n},        {"top5_accuracy", top5_ / n},
            {"masked_tokens", static_cast<double>(count_)}};
  }

 private:
  double nll_ = 0;
  int64_t count_ = 0, correct_ = 0, top5_ = 0;
};

class MlmTask : public Task {
 public:
  MlmTask(const Config& cfg, const std::string& run_dir, TaskData data) : run_dir_(run_dir) {
    const Json& d = cfg.at("data");
    for (const auto& f : d.at("text_files")) {
      cfg.require(f.is_string(), "data.text_files", "must be a list of file paths");
      text_files_.push_back(f.get<std::string>());
      cfg.require(data == TaskData::kNone || fs::exists(text_files_.back()), "data.text_files",
                  "names a file that does not exist: " + text_files_.back());
    }
    for (const auto& f : d.at("extra_train_files")) {
      cfg.require(f.is_string(), "data.extra_train_files", "must be a list of file paths");
      extra_train_files_.push_back(f.get<std::string>());
      cfg.require(data == TaskData::kNone || fs::exists(extra_train_files_.back()), "data.extra_train_files",
                  "names a file that does not exist: " + extra_train_files_.back());
    }
    embedded_documents_ = d.at("embedded_documents").get<int64_t>();
    val_fraction_ = d.at("val_fraction").get<double>();
    max_seq_len_ = d.at("max_seq_len").get<int64_t>();
    val_max_sequences_ = d.at("val_max_sequences").get<int64_t>();
    eval_mask_seed_ = d.at("eval_mask_seed").get<uint64_t>();
    cfg.require(embedded_documents_ >= 10, "data.embedded_documents", "must be >= 10");
    cfg.require(val_fraction_ > 0 && val_fraction_ < 1, "data.val_fraction", "must be in (0, 1)");
    cfg.require(max_seq_len_ >= 8, "data.max_seq_len", "must be >= 8");
    cfg.require(val_max_sequences_ > 0, "data.val_max_sequences", "must be > 0");

    const Json& l = cfg.at("loss");
    masking_.mask_probability = l.at("mask_probability").get<double>();
    masking_.mask_token_ratio = l.at("mask_token_ratio").get<double>();
    masking_.random_token_ratio = l.at("random_token_ratio").get<double>();
    masking_.whole_word = l.at("whole_word").get<bool>();
    loss_.label_smoothing = l.at("label_smoothing").get<double>();
    cfg.require(masking_.mask_probability > 0 && masking_.mask_probability <= 1,
                "loss.mask_probability", "must be in (0, 1]");
    cfg.require(masking_.mask_token_ratio >= 0 && masking_.random_token_ratio >= 0 &&
                    masking_.mask_token_ratio + masking_.random_token_ratio <= 1,
                "loss.mask_token_ratio", "and loss.random_token_ratio must be >= 0 with sum <= 1");
    cfg.require(loss_.label_smoothing >= 0 && loss_.label_smoothing < 1, "loss.label_smoothing",
                "must be in [0, 1)");

    const TrainOptions train = train_options(cfg);
    batch_size_ = train.batch_size;
    seed_ = static_cast<uint64_t>(train.seed);
    eval_masking_ = masking_;
    eval_masking_.mask_probability = cfg.at("eval.mask_probability").get<double>();
    eval_masking_.whole_word = cfg.at("eval.whole_word").get<bool>();
    cfg.require(eval_masking_.mask_probability > 0 && eval_masking_.mask_probability <= 1, "eval.mask_probability",
                "must be in (0, 1]");
    eval_batch_size_ = cfg.at("eval.batch_size").get<int64_t>();
    top_k_ = cfg.at("eval.top_k").get<int64_t>();
    cfg.require(eval_batch_size_ > 0, "eval.batch_size", "must be > 0");
    cfg.require(top_k_ > 0, "eval.top_k", "must be > 0");

    TokenizerOptions tok;
    tok.lower_case = d.at("lower_case").get<bool>();
    const std::string hf_dir = cfg.at("init.hf_checkpoint").get<std::string>();
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
      bert = bert_config_from(cfg, "model");
      const int64_t vocab_size = d.at("vocab_size").get<int64_t>();
      cfg.require(vocab_size >= 16, "data.vocab_size", "must be >= 16");
      tokenizer_ = open_tokenizer(d.at("vocab_file").get<std::string>(), run_dir_, vocab_size,
                                  d.at("vocab_min_frequency").get<int64_t>(), tok, [&] {
                                    std::vector<std::string> texts;
                                    for (const auto& doc : split_documents().first)
                                      texts.insert(texts.end(), doc.begin(), doc.end());
                                    return texts;
                                  });
    }
    cfg.require(max_seq_len_ <= bert.max_position, "data.max_seq_len", "must be <= model.max_position");
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
  std::unique_ptr<Evaluator> make_evaluator() override { return std::make_unique<MlmEvaluator>(); }

  Batch train_batch(int64_t index) override {
    load_sequences();
    std::vector<MaskedSequence> masked;
    for (int64_t t = 0; t < batch_size_; ++t) {
      const int64_t position = index * batch_size_ + t;
      const auto& seq = train_sequences_[static_cast<size_t>((*sampler_)(position))];
      masked.push_back(mask_sequence(seq, masking_vocab_, masking_, mix_seed(seed_, static_cast<uint64_t>(position))));
    }
    return collate(masked);
  }

  std::vector<Batch> eval_batches(const std::string& split) override {
    if (split != "val")
      throw UserError("mlm: split '" + split + "' does not exist (the text is split into train and val)");
    load_sequences();
    if (val_batches_.empty()) {
      // Masks fixed by data.eval_mask_seed, not train.seed: runs compare on identical targets.
      const size_t n = std::min(val_sequences_.size(), static_cast<size_t>(val_max_sequences_));
      for (size_t start = 0; start < n; start += static_cast<size_t>(eval_batch_size_)) {
        std::vector<MaskedSequence> masked;
        for (size_t i = start; i < std::min(n, start + static_cast<size_t>(eval_batch_size_)); ++i)
          masked.push_back(mask_sequence(val_sequences_[i], masking_vocab_, eval_masking_, mix_seed(eval_mask_seed_, i)));
        val_batches_.push_back(collate(masked));
      }
    }
    return val_batches_;
  }

  StepLosses training_step(const Batch& batch) override {
    const auto [logits, targets] = masked_logits(batch);
    return {{{"mlm", masked_lm_loss(logits, targets, loss_)}}, static_cast<double>(targets.numel())};
  }

  Batch predict(const Batch& batch) override {
    const auto [logits, targets] = masked_logits(batch);
    return {{"logits", logits}, {"targets", targets}};
  }

  void export_model(const std::string& dir) override {
    fs::create_directories(dir);
    model_->eval();
    export_bert_mlm_torchscript(*model_, dir + "/model.pt");
    save_hf_bert_weights(dir + "/weights.pt", *model_);
    write_hf_bert_config(dir + "/config.json", bert_config_);
    write_safetensors(dir + "/weights.safetensors", hf_bert_state(*model_));
    tokenizer_->vocab().save(dir + "/vocab.txt");
    // transformers' BERT is post-LN only: a pre-LN model has no hf/ (config.json says zoo_norm_first).
    if (!bert_config_.norm_first)
      write_pretrained_bert(dir + "/hf", bert_config_, "BertForMaskedLM", hf_bert_state(*model_), *tokenizer_,
                            max_seq_len_);
    write_json_file(dir + "/meta.json",
                    {{"task", "mlm"},
                     {"format_version", kExportFormatVersion},
                     {"tokenizer", tokenizer_meta(*tokenizer_)},
                     {"inputs", {"input_ids", "attention_mask", "token_type_ids"}},
                     {"input_dtype", "int64"},
                     {"outputs", {"logits"}},
                     {"vocab", "vocab.txt"},
                     {"hf", bert_config_.norm_first ? Json(nullptr) : Json("hf/ (transformers BertForMaskedLM)")},
                     {"lower_case", tokenizer_->options().lower_case},
                     {"max_seq_len", max_seq_len_},
                     {"special_ids", {{"pad", tokenizer_->vocab().pad_id},
                                      {"cls", tokenizer_->vocab().cls_id},
                                      {"sep", tokenizer_->vocab().sep_id},
                                      {"mask", tokenizer_->vocab().mask_id}}}});
  }

 private:
  // Training documents and held-out documents: every k-th document (k = 1 / val_fraction) is
  // held out, so the split is deterministic and independent of the seed.
  std::pair<std::vector<Document>, std::vector<Document>> split_documents() const {
    std::vector<Document> docs;
    if (text_files_.empty()) {
      docs = embedded_corpus(embedded_documents_, 0);
    } else {
      for (const auto& f : text_files_)
        for (auto& doc : read_text_documents(f)) docs.push_back(std::move(doc));
    }
    const size_t every = std::max<size_t>(2, static_cast<size_t>(std::lround(1.0 / val_fraction_)));
    std::pair<std::vector<Document>, std::vector<Document>> split;
    for (size_t i = 0; i < docs.size(); ++i)
      (i % every == every - 1 ? split.second : split.first).push_back(std::move(docs[i]));
    if (split.second.empty() || split.first.empty())
      throw UserError("mlm: the text has " + std::to_string(docs.size()) +
                      " documents, too few for a train/val split");
    for (const auto& f : extra_train_files_)
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
      return pack_sequences(ids, max_seq_len_, vocab.cls_id, vocab.sep_id);
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
  // at the other 85 % of positions.
  std::pair<torch::Tensor, torch::Tensor> masked_logits(const Batch& batch) {
    const torch::Tensor labels = batch.at(kLabels).reshape({-1});
    const torch::Tensor positions = (labels != kIgnoreLabel).nonzero().squeeze(1);
    const torch::Tensor logits =
        model_->forward_at(batch.at(kIds), batch.at(kMask), batch.at(kTypes), positions);
    return {logits, labels.index_select(0, positions)};
  }

  std::string run_dir_;
  std::vector<std::string> text_files_, extra_train_files_;
  int64_t embedded_documents_ = 0, max_seq_len_ = 0, val_max_sequences_ = 0;
  double val_fraction_ = 0.1;
  uint64_t eval_mask_seed_ = 0, seed_ = 0;
  int64_t batch_size_ = 0, eval_batch_size_ = 0, top_k_ = 5;
  MaskingOptions masking_, eval_masking_;
  MaskingVocab masking_vocab_;
  MaskedLmLossOptions loss_;
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

}  // namespace zoo
