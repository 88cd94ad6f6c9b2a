#include "train/tasks/sts/task.h"

#include <cmath>
#include <filesystem>
#include <set>

#include "data/sampling.h"
#include "data/sts_encoding.h"
#include "data/sts_pairs.h"
#include "data/sts_targets.h"
#include "losses/sts_loss.h"
#include "models/sts.h"
#include "io/formats/hf_bert.h"
#include "train/hf_checkpoint.h"
#include "train/tasks/bert_common.h"
#include "train/tasks/sts/evaluator.h"
#include "train/tasks/sts/export.h"
#include "train/trainer.h"

namespace zoo {

namespace fs = std::filesystem;

namespace {

class StsTask : public Task {
 public:
  StsTask(const Config& cfg, const std::string& run_dir, TaskData data)
      : run_dir_(run_dir), o_(StsOptions::table().read(cfg)) {
    options_ = o_.sts;
    max_seq_len_ = o_.max_seq_len;
    const TrainOptions train = train_options(cfg);
    batch_size_ = train.batch_size;
    seed_ = static_cast<uint64_t>(train.seed);

    // Pairs.
    const std::string& train_file = o_.train_file;
    if (data == TaskData::kNone) {
      // Export and predict: no pairs; the vocabulary and match classes come from the run.
    } else if (train_file.empty()) {
      const int64_t n = o_.synthetic_pairs;
      train_pairs_ = synthetic_sts_pairs(n, 0);
      val_pairs_ = synthetic_sts_pairs(std::max<int64_t>(200, n / 8), 1);  // another seed: unseen pairs
    } else {
      const double lo = options_.min_score, hi = options_.max_score;
      train_pairs_ = load_sts_pairs(train_file, o_.format, lo, hi, o_.sick_train_split);
      val_pairs_ = load_sts_pairs(o_.val_file, o_.format, lo, hi, o_.sick_val_split);
    }

    // Encoder, vocabulary and initial weights.
    TokenizerOptions tok;
    tok.lower_case = o_.lower_case;
    const std::string& mlm_run = o_.mlm_run;
    const std::string& hf_dir = o_.hf_checkpoint;
    BertConfig bert = o_.model;
    PretrainedBert pretrained;
    bool load_pretrained_weights = false;
    const bool has_own = run_has_checkpoint(run_dir_);
    if (!mlm_run.empty() && has_own && fs::exists(run_dir_ + "/vocab.txt")) {
      // The pre-training run's architecture is in this run's config (resolved_settings) and its
      // vocabulary in DIR/vocab.txt: the pre-training run is not needed any more.
      tokenizer_ = std::make_unique<WordPieceTokenizer>(Vocab::load(run_dir_ + "/vocab.txt"), tok);
    } else if (!mlm_run.empty()) {
      cfg.require(fs::exists(mlm_run + "/config.json"), "init.mlm_run", "is not a run directory");
      // The architecture comes from the pre-training run; dropout stays this run's choice.
      Config pre(read_json_file(mlm_run + "/config.json"));
      const BertConfig p = bert_model_table().read(pre);
      bert.hidden_size = p.hidden_size, bert.num_layers = p.num_layers, bert.num_heads = p.num_heads;
      bert.intermediate_size = p.intermediate_size, bert.max_position = p.max_position;
      bert.norm_first = p.norm_first;
      tokenizer_ = std::make_unique<WordPieceTokenizer>(Vocab::load(mlm_run + "/vocab.txt"), tok);
      if (!run_dir_.empty()) tokenizer_->vocab().save(run_dir_ + "/vocab.txt");
      load_pretrained_weights = true;
    } else if (!hf_dir.empty()) {
      // A published checkpoint brings its architecture, vocabulary, tokenizer settings and, from
      // sentence-transformers, pooling and sequence length; a config that contradicts one fails.
      cfg.require(has_own || fs::is_directory(hf_dir), "init.hf_checkpoint", "is not a directory");
      pretrained = open_run_init_checkpoint(hf_dir, run_dir_, load_pretrained_weights);
      from_checkpoint_ = true;
      bert = pretrained.bert;
      tokenizer_ = pretrained_tokenizer(pretrained, cfg, "data.lower_case");
      max_seq_len_ = pretrained_max_seq_len(pretrained, cfg, "data.max_seq_len");
      if (!pretrained.pooling.empty()) {
        cfg.require(!cfg.is_set("model.pooling") || options_.pooling == pretrained.pooling, "model.pooling",
                    "contradicts the checkpoint's 1_Pooling/config.json (" + pretrained.pooling + ")");
        cfg.require(!cfg.is_set("model.normalize") || options_.normalize == pretrained.normalize, "model.normalize",
                    "contradicts the checkpoint's modules.json");
        options_.pooling = pretrained.pooling;
        options_.normalize = pretrained.normalize;
      }
    } else {
      tokenizer_ = open_tokenizer(o_.vocab_file, run_dir_, o_.vocab_size, o_.vocab_min_frequency, tok, [&] {
                                    std::vector<std::string> texts;
                                    for (const auto& p : train_pairs_) texts.push_back(p.s1), texts.push_back(p.s2);
                                    return texts;
                                  });
    }
    cfg.require(max_seq_len_ <= bert.max_position, "data.max_seq_len", "must be <= model.max_position");
    const Vocab& vocab = tokenizer_->vocab();
    bert.vocab_size = vocab.size();
    bert.pad_token_id = vocab.pad_id;
    torch::manual_seed(seed_);
    model_ = StsModel(bert, options_);
    if (!mlm_run.empty() && load_pretrained_weights) {
      const std::string best = mlm_run + "/checkpoints/best.pt";
      BertForMaskedLM pretrained(bert);
      load_model_weights(*pretrained, fs::exists(best) ? best : mlm_run + "/checkpoints/last.pt");
      torch::NoGradGuard no_grad;
      auto source = pretrained->bert->named_parameters();
      for (auto& item : model_->bert->named_parameters())
        if (source.contains(item.key())) item.value().copy_(source[item.key()]);  // pooler: fresh init
    } else if (!hf_dir.empty() && load_pretrained_weights) {
      load_hf_bert_weights(pretrained.weights_path, *model_->bert);
    }
    bert_ = bert;
    from_mlm_run_ = !mlm_run.empty();
    train_encoded_ = encode_all(train_pairs_);
    val_encoded_ = encode_all(val_pairs_);
    if (options_.exact_match && options_.match_idf_buckets > 0) match_class_ = match_classes();
    if (data == TaskData::kLoad)
      sampler_ = std::make_unique<EpochSampler>(static_cast<int64_t>(train_encoded_.size()), seed_);
  }

  Json resolved_settings() const override {
    Json settings = Json::object();
    if (from_mlm_run_)  // the pre-training run's architecture, so that this run stands alone
      settings["model"] = {{"hidden_size", bert_.hidden_size}, {"num_layers", bert_.num_layers},
                           {"num_heads", bert_.num_heads}, {"intermediate_size", bert_.intermediate_size},
                           {"max_position", bert_.max_position}};
    if (!from_checkpoint_) return settings;
    return {{"data", {{"lower_case", tokenizer_->options().lower_case}, {"max_seq_len", max_seq_len_}}},
            {"model", {{"pooling", options_.pooling}, {"normalize", options_.normalize}}}};
  }

  std::string name() const override { return "sts"; }
  torch::nn::Module& model() override { return *model_; }
  PrimaryMetric primary_metric() const override { return {"pearson", true}; }
  std::unique_ptr<Evaluator> make_evaluator(const std::string&) override { return std::make_unique<StsEvaluator>(); }

  Batch train_batch(int64_t index) override {
    std::vector<const EncodedPair*> picked;
    std::vector<EncodedPair> swapped;
    swapped.reserve(static_cast<size_t>(batch_size_));  // no reallocation: picked points into it
    for (int64_t t = 0; t < batch_size_; ++t) {
      const int64_t position = index * batch_size_ + t;
      const EncodedPair& p = train_encoded_[static_cast<size_t>((*sampler_)(position))];
      if (o_.swap_pairs && (mix_seed(seed_ ^ 0x73776170ull, static_cast<uint64_t>(position)) & 1)) {
        swapped.push_back({p.b, p.a, p.score});
        picked.push_back(&swapped.back());
      } else {
        picked.push_back(&p);
      }
    }
    return collate(picked);
  }

  std::vector<Batch> eval_batches(const std::string& split) override {
    if (split != "val") throw UserError("sts: split '" + split + "' does not exist (use val; data.val_file sets it)");
    if (val_batches_.empty())
      for (size_t start = 0; start < val_encoded_.size(); start += static_cast<size_t>(o_.eval_batch_size)) {
        std::vector<const EncodedPair*> picked;
        for (size_t i = start; i < std::min(val_encoded_.size(), start + static_cast<size_t>(o_.eval_batch_size)); ++i)
          picked.push_back(&val_encoded_[i]);
        val_batches_.push_back(collate(picked));
      }
    return val_batches_;
  }

  StepLosses training_step(const Batch& batch) override {
    const torch::Tensor raw = forward(batch);
    const torch::Tensor gold = batch.at("score");
    const double lo = options_.min_score, span = options_.max_score - options_.min_score;
    const auto n = static_cast<double>(gold.size(0));
    // sentence-transformers' CosineSimilarityLoss: MSE between cos(u, v) and the score in [0, 1].
    if (options_.head == "cosine") return {{{"cosine_mse", sts_regression_loss(raw, (gold - lo) / span)}}, n};
    if (options_.head == "regression") return {{{"mse", sts_regression_loss(model_->score(raw), gold)}}, n};
    return {{{"kl", sts_distribution_loss(raw, sparse_target_distribution(gold, lo, model_->num_classes()))}}, n};
  }

  Batch predict(const Batch& batch) override { return {{"score", model_->score(forward(batch))}}; }

  void export_model(const std::string& dir) override {
    model_->eval();
    write_sts_export(dir, *model_, options_, *tokenizer_, match_class_, max_seq_len_);
  }

 private:
  using EncodedPair = StsEncodedPair;

  EncodedPair encode(const SentencePair& p) const {
    return encode_sts_pair(*tokenizer_, p.s1, p.s2, p.score, options_.architecture == "bi", max_seq_len_);
  }

  // The match classes of the run: DIR/match_classes.json once written (export and predict read no
  // training pairs), else computed from the training pairs and written there.
  std::vector<int64_t> match_classes() const {
    const std::string path = run_dir_ + "/match_classes.json";
    if (!run_dir_.empty() && fs::exists(path)) {
      const Json j = read_json_file(path);
      if (!j.is_array() || j.size() != static_cast<size_t>(tokenizer_->vocab().size()))
        throw UserError(path + ": expected one match class per vocabulary entry (" +
                        std::to_string(tokenizer_->vocab().size()) + ")");
      return j.get<std::vector<int64_t>>();
    }
    if (train_encoded_.empty())
      throw UserError(run_dir_ + ": has no match_classes.json and no training pairs were read to compute them");
    std::vector<int64_t> classes =
        idf_match_classes(train_encoded_, tokenizer_->vocab().size(), options_.match_idf_buckets);
    if (!run_dir_.empty()) {
      fs::create_directories(run_dir_);
      write_json_file(path, Json(classes));
    }
    return classes;
  }

  std::vector<EncodedPair> encode_all(const std::vector<SentencePair>& pairs) const {
    std::vector<EncodedPair> out;
    out.reserve(pairs.size());
    for (const auto& p : pairs) out.push_back(encode(p));
    return out;
  }

  // data/sts_encoding.h: the same tensors the exported model gets from zoo::infer.
  Batch collate(const std::vector<const EncodedPair*>& pairs) const {
    return collate_sts_pairs(tokenizer_->vocab(), pairs, options_.architecture == "bi", match_class_);
  }

  torch::Tensor forward(const Batch& b) {
    if (options_.architecture == "bi") return model_->forward_bi(b.at("ids_a"), b.at("mask_a"), b.at("ids_b"), b.at("mask_b"));
    return model_->forward_cross(b.at("input_ids"), b.at("attention_mask"), b.at("token_type_ids"), b.at("match"));
  }

  std::string run_dir_;
  StsOptions o_;
  // o_.sts and o_.max_seq_len, or what a published checkpoint set instead.
  StsModelOptions options_;
  int64_t max_seq_len_ = 128, batch_size_ = 32;
  uint64_t seed_ = 0;
  std::vector<SentencePair> train_pairs_, val_pairs_;
  std::vector<EncodedPair> train_encoded_, val_encoded_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  bool from_checkpoint_ = false;  // init.hf_checkpoint set tokenizer (and sts pooling) settings
  bool from_mlm_run_ = false;     // init.mlm_run set the architecture
  BertConfig bert_;
  StsModel model_{nullptr};
  std::unique_ptr<EpochSampler> sampler_;
  std::vector<int64_t> match_class_;  // empty: a shared token is class 1
  std::vector<Batch> val_batches_;
};

}  // namespace

std::unique_ptr<Task> make_sts_task(const Config& cfg, const std::string& run_dir, TaskData data) {
  return std::make_unique<StsTask>(cfg, run_dir, data);
}

TaskEntry sts_task_entry() {
  return {"sts", "sentence-pair similarity 0-5: BERT cross-/bi-encoder, regression or distribution head",
          sts_task_defaults, sts_option_docs, [](const Config& cfg, const std::string& run_dir, TaskData data) {
            return make_sts_task(cfg, run_dir, data);
          }};
}

}  // namespace zoo
