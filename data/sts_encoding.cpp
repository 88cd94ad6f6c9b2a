#include "data/sts_encoding.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace zoo {

StsEncodedPair encode_sts_pair(const WordPieceTokenizer& tokenizer, const std::string& a, const std::string& b,
                               double score, bool bi_encoder, int64_t max_seq_len) {
  StsEncodedPair e{tokenizer.encode(a), tokenizer.encode(b), score};
  if (bi_encoder) {  // each sentence on its own: [CLS] s [SEP] fits
    for (auto* s : {&e.a, &e.b})
      if (static_cast<int64_t>(s->size()) + 2 > max_seq_len) s->resize(static_cast<size_t>(max_seq_len - 2));
    return e;
  }
  // Longest-first truncation so that [CLS] a [SEP] b [SEP] fits (and each alone fits).
  while (static_cast<int64_t>(e.a.size() + e.b.size()) + 3 > max_seq_len) (e.a.size() >= e.b.size() ? e.a : e.b).pop_back();
  return e;
}

Batch collate_sts_pairs(const Vocab& v, const std::vector<const StsEncodedPair*>& pairs, bool bi_encoder,
                        const std::vector<int64_t>& match_class) {
  const auto n = static_cast<int64_t>(pairs.size());
  torch::Tensor score = torch::empty({n}, torch::kFloat32);
  for (int64_t i = 0; i < n; ++i) score[i] = pairs[static_cast<size_t>(i)]->score;
  auto padded = [&](const std::vector<std::vector<int64_t>>& rows, torch::Tensor& mask) {
    size_t len = 0;
    for (const auto& r : rows) len = std::max(len, r.size());
    torch::Tensor ids = torch::full({n, static_cast<int64_t>(len)}, v.pad_id, torch::kInt64);
    mask = torch::zeros_like(ids);
    for (int64_t i = 0; i < n; ++i) {
      const auto& r = rows[static_cast<size_t>(i)];
      ids[i].narrow(0, 0, static_cast<int64_t>(r.size())).copy_(torch::tensor(r));
      mask[i].narrow(0, 0, static_cast<int64_t>(r.size())).fill_(1);
    }
    return ids;
  };
  auto wrap = [&](const std::vector<int64_t>& s) {
    std::vector<int64_t> r{v.cls_id};
    r.insert(r.end(), s.begin(), s.end());
    r.push_back(v.sep_id);
    return r;
  };
  std::map<std::string, torch::Tensor> batch{{"score", score}};
  if (bi_encoder) {
    std::vector<std::vector<int64_t>> a, b;
    for (const auto* p : pairs) a.push_back(wrap(p->a)), b.push_back(wrap(p->b));
    torch::Tensor mask_a, mask_b;
    batch["ids_a"] = padded(a, mask_a);
    batch["ids_b"] = padded(b, mask_b);
    batch["mask_a"] = mask_a;
    batch["mask_b"] = mask_b;
    return batch;
  }
  std::vector<std::vector<int64_t>> joined, types, match;
  for (const auto* p : pairs) {
    std::vector<int64_t> j = wrap(p->a);
    j.insert(j.end(), p->b.begin(), p->b.end());
    j.push_back(v.sep_id);
    std::vector<int64_t> t(j.size(), 0);
    std::fill(t.begin() + static_cast<std::ptrdiff_t>(p->a.size() + 2), t.end(), 1);
    // Exact match: a token that also occurs in the other sentence (specials never match).
    const std::set<int64_t> in_a(p->a.begin(), p->a.end()), in_b(p->b.begin(), p->b.end());
    std::vector<int64_t> mt(j.size(), 0);
    for (size_t i = 0; i < j.size(); ++i) {
      if (v.is_special(j[i])) continue;
      const bool shared = i < p->a.size() + 2 ? in_b.count(j[i]) > 0 : in_a.count(j[i]) > 0;
      mt[i] = !shared ? 0 : match_class.empty() ? 1 : match_class[static_cast<size_t>(j[i])];
    }
    joined.push_back(std::move(j)), types.push_back(std::move(t)), match.push_back(std::move(mt));
  }
  torch::Tensor mask, unused;
  batch["input_ids"] = padded(joined, mask);
  batch["attention_mask"] = mask;
  batch["token_type_ids"] = padded(types, unused).clamp_min(0);
  batch["match"] = padded(match, unused).clamp_min(0);
  return batch;
}

std::vector<int64_t> idf_match_classes(const std::vector<StsEncodedPair>& pairs, int64_t vocab_size,
                                       int64_t buckets) {
  const auto vocab = static_cast<size_t>(vocab_size);
  std::vector<double> df(vocab, 0.0);
  double sentences = 0;
  for (const auto& p : pairs)
    for (const auto* s : {&p.a, &p.b}) {
      for (const int64_t id : std::set<int64_t>(s->begin(), s->end())) df[static_cast<size_t>(id)] += 1;
      sentences += 1;
    }
  const double max_idf = std::log(std::max(1.0, sentences));
  const int64_t n = buckets;
  std::vector<int64_t> classes(vocab);
  for (size_t id = 0; id < vocab; ++id) {
    const double idf = std::max(0.0, std::log(std::max(1.0, sentences) / (1 + df[id])));
    classes[id] = 1 + std::min<int64_t>(n - 1, static_cast<int64_t>(idf / std::max(max_idf, 1e-9) * n));
  }
  return classes;
}

}  // namespace zoo
