// synthetic_sts_pairs (declared in data/sts_pairs.h): a generated STS set whose gold score is a
// transparent function of the two described scenes. Kept apart from the file loaders so that
// each file stays readable on its own.
#include <random>
#include <string>
#include <vector>

#include "data/sampling.h"
#include "data/sts_pairs.h"

namespace zoo {

namespace {

// Entries come in pairs of the same kind (index ^ 1 is the related one); each has one or two
// surface forms that mean the same thing, so a model must learn synonymy, not string identity.
using Forms = std::vector<const char*>;
const std::vector<Forms> kSubjects = {
    {"a man", "a guy"},          {"a woman", "a lady"},           // adults
    {"a boy", "a young boy"},    {"a girl", "a young girl"},      // children
    {"an old man", "an elderly man"}, {"an old woman", "an elderly woman"},  // the elderly
};
const std::vector<Forms> kPlaces = {
    {"in the kitchen"},                  {"in the living room", "in the lounge"},  // indoor
    {"in the park"},                     {"in the garden", "in the yard"},         // green
    {"on the street", "on the road"},    {"in the city square"},                   // street
    {"on the beach", "at the beach"},    {"by the lake"},                          // water
};

struct Activity {
  Forms ing, past;  // aligned synonyms: ing[v] and past[v] are the same verb
  std::vector<Forms> objects;
};
const std::vector<Activity> kActivities = {
    {{"playing"}, {"played"}, {{"a guitar"}, {"a piano"}, {"a flute"}, {"a violin"}}},
    {{"slicing", "cutting"}, {"sliced", "cut"}, {{"an onion"}, {"a tomato"}, {"a potato"}, {"a carrot"}}},
    {{"riding"}, {"ridden"}, {{"a horse"}, {"a bicycle", "a bike"}, {"a motorcycle", "a motorbike"}, {"a scooter"}}},
    {{"reading"}, {"read"}, {{"a book"}, {"a newspaper"}, {"a letter"}, {"a magazine"}}},
    {{"eating"}, {"eaten"}, {{"an apple"}, {"a sandwich"}, {"a banana"}, {"a pizza"}}},
};

struct Scene {
  int64_t subject, activity, object, place;
  bool has_place;
};

class Draw {
 public:
  explicit Draw(uint64_t seed) : rng_(seed) {}
  int64_t index(size_t n) { return uniform_index(rng_, static_cast<int64_t>(n)); }
  double unit() { return uniform_unit(rng_); }
  bool chance(double p) { return unit() < p; }
  // Any index in [0, n) other than `current`.
  int64_t other(int64_t current, size_t n) { return (current + 1 + index(n - 1)) % static_cast<int64_t>(n); }
  // Another entry of a pairwise-grouped table: the same kind or (equally likely) another kind.
  int64_t change(int64_t current, size_t n) {
    if (chance(0.5)) return current ^ 1;
    const int64_t kind = other(current / 2, n / 2);
    return 2 * kind + index(2);
  }
  const char* form(const Forms& forms) { return forms[static_cast<size_t>(index(forms.size()))]; }

 private:
  std::mt19937_64 rng_;
};

// Credit as documented in sts_pairs.h: share / total, scaled to 0..5.
double gold_score(const Scene& a, const Scene& b) {
  double share = 0.0, total = 4.0;
  share += a.subject == b.subject ? 1.5 : (a.subject ^ 1) == b.subject ? 0.75 : 0.0;
  if (a.activity == b.activity) share += a.object == b.object ? 2.5 : 1.75;
  if (a.has_place && b.has_place) {
    total += 1.0;
    share += a.place == b.place ? 1.0 : (a.place ^ 1) == b.place ? 0.5 : 0.0;
  } else if (a.has_place != b.has_place) {
    total += 0.5;  // a detail only one sentence gives: a small difference, and nothing shared
  }
  return 5.0 * share / total;
}

std::string realise(const Scene& s, Draw& draw) {
  const Activity& act = kActivities[static_cast<size_t>(s.activity)];
  const std::string subject = draw.form(kSubjects[static_cast<size_t>(s.subject)]);
  const std::string object = draw.form(act.objects[static_cast<size_t>(s.object)]);
  const size_t verb = static_cast<size_t>(draw.index(act.ing.size()));
  const std::string place = s.has_place ? std::string(" ") + draw.form(kPlaces[static_cast<size_t>(s.place)]) : "";
  switch (draw.index(3)) {
    case 0:
      if (s.has_place) return place.substr(1) + " , " + subject + " is " + act.ing[verb] + " " + object + " .";
      [[fallthrough]];
    case 1:
      return subject + " is " + act.ing[verb] + " " + object + place + " .";
    default:
      return object + " is being " + act.past[verb] + " by " + subject + place + " .";
  }
}

}  // namespace

std::vector<SentencePair> synthetic_sts_pairs(int64_t count, uint64_t seed) {
  std::vector<SentencePair> pairs;
  for (int64_t i = 0; i < count; ++i) {
    Draw draw(mix_seed(seed, static_cast<uint64_t>(i)));
    Scene a{draw.index(kSubjects.size()), draw.index(kActivities.size()), draw.index(4),
            draw.index(kPlaces.size()), draw.chance(0.8)};
    // A per-pair change rate spreads the scores over the whole 0..5 range instead of piling
    // them up near "nothing shared", as independent random scenes would.
    const double rate = draw.unit();
    Scene b = a;
    if (draw.chance(rate)) b.subject = draw.change(a.subject, kSubjects.size());
    if (draw.chance(rate)) b.activity = draw.other(a.activity, kActivities.size());
    if (b.activity != a.activity) b.object = draw.index(4);
    else if (draw.chance(rate)) b.object = draw.other(a.object, 4);
    if (draw.chance(rate)) b.place = draw.change(a.place, kPlaces.size());
    b.has_place = draw.chance(rate) ? !a.has_place : a.has_place;
    std::string s1 = realise(a, draw), s2 = realise(b, draw);
    if (draw.chance(0.5)) std::swap(s1, s2);
    pairs.push_back({std::move(s1), std::move(s2), gold_score(a, b)});
  }
  return pairs;
}

}  // namespace zoo
