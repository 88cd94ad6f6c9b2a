// MaskedLM and SentenceSimilarity: WordPiece with the export's vocab.txt and tokenizer settings,
// then the same id layout as training (data/text_corpus.h, data/sts_encoding.h).
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "data/sts_encoding.h"
#include "data/text_corpus.h"
#include "data/wordpiece.h"
#include "infer/predictors.h"

namespace zoo::infer {

namespace {

// Pairs or sentences per forward call: bounds the memory of a long list.
constexpr size_t kChunk = 64;

std::unique_ptr<WordPieceTokenizer> open_tokenizer(const ExportDir& e) {
  TokenizerOptions o;
  o.lower_case = e.get<bool>("tokenizer/lower_case");
  o.strip_accents = e.get<int>("tokenizer/strip_accents");
  o.tokenize_chinese_chars = e.get<bool>("tokenizer/tokenize_chinese_chars");
  o.max_chars_per_word = e.get<int>("tokenizer/max_chars_per_word");
  if (o.strip_accents < -1 || o.strip_accents > 1) e.fail("tokenizer/strip_accents", "must be -1, 0 or 1");
  if (o.max_chars_per_word < 1) e.fail("tokenizer/max_chars_per_word", "must be >= 1");
  return std::make_unique<WordPieceTokenizer>(Vocab::load(e.file_at("vocab")), o);
}

int64_t max_seq_len_of(const ExportDir& e) {
  const auto n = e.get<int64_t>("max_seq_len");
  if (n < 8 || n > 1'000'000) e.fail("max_seq_len", "must be in [8, 1e6]");
  return n;
}

// model.pt must be a BERT whose embeddings hold every id of vocab.txt and every position up to
// max_seq_len: otherwise the first forward fails inside TorchScript with an index error that
// names nothing (an edited meta.json or vocab.txt, or another export's model.pt).
void check_embeddings(const ExportDir& e, const torch::jit::Module& module, int64_t vocab_size, int64_t max_seq_len) {
  int64_t words = -1, positions = -1;
  for (const auto& attribute : module.named_attributes(/*recurse=*/false)) {
    if (!attribute.value.isTensor()) continue;
    const auto ends_with = [&](const std::string& suffix) {
      return attribute.name.size() >= suffix.size() &&
             attribute.name.compare(attribute.name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    const torch::Tensor t = attribute.value.toTensor();
    if (t.dim() != 2) continue;
    if (ends_with("embeddings_word_embeddings_weight")) words = t.size(0);
    if (ends_with("embeddings_position_embeddings_weight")) positions = t.size(0);
  }
  if (words < 0 || positions < 0)
    throw std::runtime_error(e.file("model.pt") + ": holds no BERT embeddings, so it is not the " + e.task() +
                             " model meta.json describes (a model.pt of another export?)");
  if (vocab_size > words)
    e.fail("vocab", std::to_string(vocab_size) + " tokens, but model.pt's word embeddings have " + std::to_string(words) +
                        " rows (a vocab.txt of another model?)");
  if (max_seq_len > positions)
    e.fail("max_seq_len", std::to_string(max_seq_len) + " is more than model.pt's " + std::to_string(positions) +
                              " learned positions");
}

}  // namespace

MaskedLM::MaskedLM(const std::string& dir, const torch::Device& device)
    : export_(dir, {"mlm"}), tokenizer_(open_tokenizer(export_)), module_(export_.load_module(device)),
      device_(device), max_seq_len_(max_seq_len_of(export_)) {
  check_embeddings(export_, module_, tokenizer_->vocab().size(), max_seq_len_);
}

MaskedLM::~MaskedLM() = default;

std::vector<int64_t> MaskedLM::encode(const std::string& text) const {
  const Vocab& vocab = tokenizer_->vocab();
  std::vector<int64_t> ids = {vocab.cls_id};
  for (int64_t id : encode_corpus_text(*tokenizer_, text)) ids.push_back(id);
  ids.push_back(vocab.sep_id);
  if (static_cast<int64_t>(ids.size()) > max_seq_len_)
    throw std::runtime_error("the text is " + std::to_string(ids.size()) + " tokens long, more than the model's " +
                             std::to_string(max_seq_len_) + ": '" + text.substr(0, 60) + "'");
  return ids;
}

std::vector<std::vector<MaskedLM::Candidate>> MaskedLM::fill(const std::string& text, int64_t top_k) const {
  return fill(std::vector<std::string>{text}, top_k).front();
}

std::vector<std::vector<std::vector<MaskedLM::Candidate>>> MaskedLM::fill(const std::vector<std::string>& texts,
                                                                          int64_t top_k) const {
  if (top_k < 1) throw std::invalid_argument("MaskedLM::fill: top_k must be >= 1");
  const Vocab& vocab = tokenizer_->vocab();
  std::vector<std::vector<std::vector<Candidate>>> out;
  for (size_t start = 0; start < texts.size(); start += kChunk) {
    const size_t end = std::min(texts.size(), start + kChunk);
    std::vector<std::vector<int64_t>> rows;
    size_t len = 0;
    for (size_t t = start; t < end; ++t) {
      rows.push_back(encode(texts[t]));
      if (std::find(rows.back().begin(), rows.back().end(), vocab.mask_id) == rows.back().end())
        throw std::runtime_error("'" + texts[t] + "' has no [MASK] to fill");
      len = std::max(len, rows.back().size());
    }
    const auto n = static_cast<int64_t>(rows.size());
    torch::Tensor ids = torch::full({n, static_cast<int64_t>(len)}, vocab.pad_id, torch::kInt64);
    torch::Tensor mask = torch::zeros_like(ids);
    for (int64_t i = 0; i < n; ++i) {
      const auto& r = rows[static_cast<size_t>(i)];
      ids[i].narrow(0, 0, static_cast<int64_t>(r.size())).copy_(torch::tensor(r));
      mask[i].narrow(0, 0, static_cast<int64_t>(r.size())).fill_(1);
    }
    torch::InferenceMode guard;
    const torch::Tensor logits =
        module_.forward({ids.to(device_), mask.to(device_), torch::zeros_like(ids).to(device_)}).toTensor();
    const int64_t k = std::min(top_k, logits.size(-1));
    for (int64_t i = 0; i < n; ++i) {
      std::vector<std::vector<Candidate>> per_mask;
      const auto& r = rows[static_cast<size_t>(i)];
      for (size_t pos = 0; pos < r.size(); ++pos) {
        if (r[pos] != vocab.mask_id) continue;
        const auto [probs, best] = logits[i][static_cast<int64_t>(pos)].softmax(-1).topk(k);
        const auto p = probs.to(torch::kCPU, torch::kDouble), b = best.cpu();
        std::vector<Candidate> list;
        for (int64_t j = 0; j < k; ++j) list.push_back({vocab.token(b[j].item<int64_t>()), p[j].item<double>()});
        per_mask.push_back(std::move(list));
      }
      out.push_back(std::move(per_mask));
    }
  }
  return out;
}

SentenceSimilarity::SentenceSimilarity(const std::string& dir, const torch::Device& device)
    : export_(dir, {"sts"}), tokenizer_(open_tokenizer(export_)), module_(export_.load_module(device)),
      device_(device), max_seq_len_(max_seq_len_of(export_)) {
  check_embeddings(export_, module_, tokenizer_->vocab().size(), max_seq_len_);
  const auto architecture = export_.get<std::string>("architecture");
  if (architecture != "bi" && architecture != "cross") export_.fail("architecture", "must be bi or cross");
  bi_ = architecture == "bi";
  const nlohmann::json& classes = export_.at("match_class");
  if (!classes.is_array()) export_.fail("match_class", "must be an array");
  if (!classes.empty()) {
    match_class_ = export_.get<std::vector<int64_t>>("match_class");
    if (match_class_.size() != static_cast<size_t>(tokenizer_->vocab().size()))
      export_.fail("match_class", "must have one entry per vocabulary token (" +
                                      std::to_string(tokenizer_->vocab().size()) + ")");
    const auto buckets = export_.get<int64_t>("match_idf_buckets");
    for (int64_t c : match_class_)
      if (c < 1 || c > buckets) export_.fail("match_class", "entries must be in [1, match_idf_buckets]");
  }
}

SentenceSimilarity::~SentenceSimilarity() = default;

std::vector<StsEncodedPair> SentenceSimilarity::tokenize(
    const std::vector<std::pair<std::string, std::string>>& pairs) const {
  std::vector<StsEncodedPair> encoded;
  for (const auto& [a, b] : pairs) encoded.push_back(encode_sts_pair(*tokenizer_, a, b, 0.0, bi_, max_seq_len_));
  return encoded;
}

std::map<std::string, torch::Tensor> SentenceSimilarity::collate(const std::vector<const StsEncodedPair*>& picked) const {
  auto batch = collate_sts_pairs(tokenizer_->vocab(), picked, bi_, match_class_);
  batch.erase("score");
  return batch;
}

std::map<std::string, torch::Tensor> SentenceSimilarity::encode(
    const std::vector<std::pair<std::string, std::string>>& pairs) const {
  const auto encoded = tokenize(pairs);
  std::vector<const StsEncodedPair*> picked;
  for (const auto& e : encoded) picked.push_back(&e);
  return collate(picked);
}

void SentenceSimilarity::for_each_chunk(const std::vector<std::pair<std::string, std::string>>& pairs,
                                        const ChunkFn& run) const {
  const auto encoded = tokenize(pairs);
  // By length, so that a chunk, padded to its longest pair, holds pairs of similar length
  // (sentence-transformers' encode() sorts its sentences so). Stable: pairs of one length keep
  // their order.
  const auto length = [&](int64_t i) {
    const StsEncodedPair& e = encoded[static_cast<size_t>(i)];
    return bi_ ? std::max(e.a.size(), e.b.size()) : e.a.size() + e.b.size();
  };
  std::vector<int64_t> order(encoded.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return length(x) < length(y); });
  for (size_t start = 0; start < order.size(); start += kChunk) {
    const std::vector<int64_t> rows(order.begin() + static_cast<std::ptrdiff_t>(start),
                                    order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + kChunk)));
    std::vector<const StsEncodedPair*> picked;
    for (int64_t i : rows) picked.push_back(&encoded[static_cast<size_t>(i)]);
    run(collate(picked), rows);
  }
}

std::vector<double> SentenceSimilarity::score(const std::vector<std::pair<std::string, std::string>>& pairs) const {
  const auto names = export_.get<std::vector<std::string>>("inputs");
  const auto range = export_.get<std::vector<double>>("score_range");
  if (range.size() != 2 || !(range[0] < range[1])) export_.fail("score_range", "must be [low, high] with low < high");
  std::vector<double> scores(pairs.size());
  for_each_chunk(pairs, [&](const std::map<std::string, torch::Tensor>& batch, const std::vector<int64_t>& rows) {
    std::vector<torch::jit::IValue> inputs;
    for (const auto& name : names) {
      const auto it = batch.find(name);
      if (it == batch.end()) export_.fail("inputs", "names '" + name + "', which this model type does not take");
      inputs.emplace_back(it->second.to(device_));
    }
    torch::InferenceMode guard;
    // Clamped to the documented range: the cosine head is min + span * cos, and a cosine below 0
    // (two unrelated texts, a 5 MB single word scored -0.32) is not a score the training data
    // holds; an unbounded regression head likewise. Within the range nothing changes.
    const auto s =
        module_.forward(inputs).toTensor().to(torch::kCPU, torch::kDouble).clamp(range[0], range[1]).contiguous();
    for (size_t k = 0; k < rows.size(); ++k) scores[static_cast<size_t>(rows[k])] = s.data_ptr<double>()[k];
  });
  return scores;
}

double SentenceSimilarity::score(const std::string& a, const std::string& b) const { return score({{a, b}}).front(); }

torch::Tensor SentenceSimilarity::embed(const std::vector<std::string>& sentences) const {
  if (!bi_) throw std::runtime_error(export_.dir() + ": a cross-encoder scores pairs; it has no sentence embeddings");
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& s : sentences) pairs.emplace_back(s, "");
  torch::Tensor out = torch::empty({0, 0});
  for_each_chunk(pairs, [&](const std::map<std::string, torch::Tensor>& batch, const std::vector<int64_t>& rows) {
    torch::InferenceMode guard;
    const auto part =
        module_.run_method("embed", batch.at("ids_a").to(device_), batch.at("mask_a").to(device_)).toTensor().cpu();
    if (out.numel() == 0) out = torch::empty({static_cast<int64_t>(sentences.size()), part.size(1)}, part.options());
    out.index_copy_(0, torch::tensor(rows), part);
  });
  return out;
}

}  // namespace zoo::infer
