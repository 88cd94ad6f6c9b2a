#pragma once
// Options declared once. A table names each option's config key, the struct member that holds
// it (whose initialiser is the default), a check and a one-line doc; the defaults JSON, the
// reader and the documentation `zoo tasks NAME` prints all come from it, so they cannot drift.
//
//   const OptionTable<ScheduleOptions>& table() {
//     static const auto t = OptionTable<ScheduleOptions>()
//         .add("schedule.warmup_steps", &ScheduleOptions::warmup_steps, "steps of linear warmup", at_least<int64_t>(0))
//         .rule([](const Config& cfg, const ScheduleOptions& s) { cfg.require(...); });  // across options
//     return t;
//   }
//   ScheduleOptions s = table().read(cfg);   Json defaults = table().to_json(ScheduleOptions{});
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "train/config.h"

namespace zoo {

// A condition on one value and how to say it is broken ("must be > 0").
template <class T>
struct Check {
  std::function<bool(const T&)> ok;
  std::string message;
};

// A bound as people write it: 0 and 1, not 0.0 and 1.0.
template <class T>
std::string bound_text(T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (v == static_cast<T>(static_cast<int64_t>(v))) return std::to_string(static_cast<int64_t>(v));
  return Json(v).dump();
}

template <class T>
Check<T> at_least(T min) {
  return {[min](const T& v) { return v >= min; }, "must be >= " + bound_text(min)};
}
template <class T>
Check<T> greater_than(T min) {
  return {[min](const T& v) { return v > min; }, "must be > " + bound_text(min)};
}
// lo <= v < hi, or lo <= v <= hi with closed = true.
template <class T>
Check<T> in_range(T lo, T hi, bool closed = false) {
  return {[=](const T& v) { return v >= lo && (closed ? v <= hi : v < hi); },
          "must be in [" + bound_text(lo) + ", " + bound_text(hi) + (closed ? "]" : ")")};
}
// lo < v < hi, or lo < v <= hi with closed = true.
template <class T>
Check<T> in_open_range(T lo, T hi, bool closed = false) {
  return {[=](const T& v) { return v > lo && (closed ? v <= hi : v < hi); },
          "must be in (" + bound_text(lo) + ", " + bound_text(hi) + (closed ? "]" : ")")};
}
Check<std::string> one_of(std::vector<std::string> choices);

// How an option's type reads in an error: "must be a list of strings".
template <class T>
std::string type_text() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else if constexpr (std::is_same_v<T, std::vector<std::string>>) return "a list of strings";
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "a list of integers";
  else if constexpr (std::is_same_v<T, std::vector<double>> || std::is_same_v<T, std::vector<float>>)
    return "a list of numbers";
  else static_assert(sizeof(T) == 0, "add this option type to type_text");
}

// One documented key: what `zoo tasks NAME` prints under the JSON.
struct OptionDoc {
  std::string key;  // dotted, e.g. "optim.lr"
  std::string doc;
  std::string rule;  // the check's message, or empty
};

template <class Options>
class OptionTable {
 public:
  template <class T>
  OptionTable&& add(std::string key, T Options::*member, std::string doc, Check<T> check = {}) && {
    add_entry<T>(std::move(key), std::move(doc), std::move(check), [member](auto& o) -> auto& { return o.*member; });
    return std::move(*this);
  }
  // An option held in a member of a member (a data/ or losses/ options struct inside this one),
  // or one level deeper.
  template <class Sub, class T>
  OptionTable&& add(std::string key, Sub Options::*outer, T Sub::*inner, std::string doc, Check<T> check = {}) && {
    add_entry<T>(std::move(key), std::move(doc), std::move(check),
                 [outer, inner](auto& o) -> auto& { return (o.*outer).*inner; });
    return std::move(*this);
  }
  template <class Sub, class Sub2, class T>
  OptionTable&& add(std::string key, Sub Options::*outer, Sub2 Sub::*middle, T Sub2::*inner, std::string doc,
                    Check<T> check = {}) && {
    add_entry<T>(std::move(key), std::move(doc), std::move(check),
                 [outer, middle, inner](auto& o) -> auto& { return ((o.*outer).*middle).*inner; });
    return std::move(*this);
  }
  // Every option of `sub` (keys and all) as part of this table, held in `member`: sections that
  // several tasks share, such as a BERT "model" section.
  template <class Sub>
  OptionTable&& include(const OptionTable<Sub>& sub, Sub Options::*member) && {
    for (const auto& e : sub.entries_)
      entries_.push_back(Entry{e.key, e.doc, e.rule, [e, member](const Options& o) { return e.write(o.*member); },
                               [e, member](const Config& cfg, const Json& root, Options& o) {
                                 e.read(cfg, root, o.*member);
                               }});
    for (const auto& r : sub.rules_)
      rules_.push_back([r, member](const Config& cfg, const Options& o) { r(cfg, o.*member); });
    return std::move(*this);
  }
  // A condition across options, checked after every option was read.
  OptionTable&& rule(std::function<void(const Config&, const Options&)> check) && {
    rules_.push_back(std::move(check));
    return std::move(*this);
  }

  // Every option's value as a JSON object of sections (merge it onto other sections' defaults).
  Json to_json() const {
    const Options defaults;  // named: GCC 12 misreports a temporary's strings as uninitialised
    return to_json(defaults);
  }
  Json to_json(const Options& o) const {
    Json j = Json::object();
    for (const Entry& e : entries_) set_dotted(j, e.key, e.write(o));
    return j;
  }
  // Reads and checks every option; errors name the key and the file or --set that gave it.
  Options read(const Config& cfg) const {
    Options o;
    for (const Entry& e : entries_) e.read(cfg, cfg.values(), o);
    for (const auto& r : rules_) r(cfg, o);
    return o;
  }
  std::vector<OptionDoc> docs() const {
    std::vector<OptionDoc> d;
    for (const Entry& e : entries_) d.push_back({e.key, e.doc, e.rule});
    return d;
  }

 private:
  template <class>
  friend class OptionTable;
  struct Entry {
    std::string key, doc, rule;
    std::function<Json(const Options&)> write;
    std::function<void(const Config&, const Json&, Options&)> read;
  };

  // `ref(options)` is the option's lvalue, for const and non-const options alike.
  template <class T, class Ref>
  void add_entry(std::string key, std::string doc, Check<T> check, Ref ref) {
    const std::string rule = check.message;
    entries_.push_back(Entry{key, std::move(doc), rule,
                             [ref](const Options& o) -> Json {
                               // A float constant is written as the decimal it was typed as.
                               if constexpr (std::is_same_v<T, float>) return decimal(ref(o));
                               else return Json(ref(o));
                             },
                             [key, ref, check](const Config& cfg, const Json& root, Options& o) {
                               T& value = ref(o);
                               // Absent only in configs saved before the option existed: those
                               // runs had the default.
                               if (const Json* v = find_dotted(root, key)) {
                                 try {
                                   value = v->template get<T>();
                                 } catch (const Json::exception&) {
                                   cfg.fail(key, "must be " + type_text<T>());
                                 }
                               }
                               if (check.ok && !check.ok(value)) cfg.fail(key, check.message);
                             }});
  }

  std::vector<Entry> entries_;
  std::vector<std::function<void(const Config&, const Options&)>> rules_;
};

}  // namespace zoo
