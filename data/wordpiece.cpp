#include "data/wordpiece.h"
#include "io/error.h"


#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace zoo {
namespace {


// ---- Character classes (spec §1.1). ASCII is answered without ICU: it is most of the text. ----

// Deleted by the cleaning step: every C* category except \t \n \r (U+0000 is Cc too).
bool is_control(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  if (c < 128) return c < 32 || c == 127;
  return (U_GET_GC_MASK(c) & U_GC_C_MASK) != 0;
}

// Word separators: BERT's whitespace (space, \t \n \r, Zs) plus U+2028/U+2029, which survive
// cleaning (they are Zl/Zp, not C*) and on which Python's str.split() also splits.
bool is_space(UChar32 c) {
  if (c < 128) return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  return c == 0x2028 || c == 0x2029 || u_charType(c) == U_SPACE_SEPARATOR;
}

bool is_punct(UChar32 c) {
  if (c < 128) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  }
  return (U_GET_GC_MASK(c) & U_GC_P_MASK) != 0;
}

bool is_cjk(UChar32 c) {
  if (c < 0x3400) return false;  // fast exit for everything alphabetic
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

void append_utf8(std::string& out, UChar32 c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
    return;
  }
  char buf[4];
  int32_t n = 0;
  U8_APPEND_UNSAFE(buf, n, c);
  out.append(buf, static_cast<size_t>(n));
}

// Buffers reused across the words of one call, so the hot loop does not allocate per word.
struct Scratch {
  std::vector<UChar32> word;       // code points of one whitespace-delimited word
  std::u16string u16_in, u16_out;  // ICU works on UTF-16
  std::string piece;               // one basic token, UTF-8
  std::vector<size_t> offsets;     // byte offset of each code point of a basic token
  std::string candidate;           // WordPiece lookup key
  std::vector<int64_t> ids;        // pieces found so far for the current word
};

// Runs an ICU preflighting transform (lower-casing, normalisation) from `in` into `out`,
// retrying once with the exact size when the first guess was too small.
template <class Transform>
void icu_transform(const std::u16string& in, std::u16string& out, Transform transform) {
  out.resize(in.size() + in.size() / 2 + 8);
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = transform(in.data(), static_cast<int32_t>(in.size()), out.data(),
                        static_cast<int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    out.resize(static_cast<size_t>(n));
    status = U_ZERO_ERROR;
    n = transform(in.data(), static_cast<int32_t>(in.size()), out.data(), n, &status);
  }
  if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU: ") + u_errorName(status));
  out.resize(static_cast<size_t>(n));
}

const UNormalizer2* nfd_instance() {
  static const UNormalizer2* nfd = [] {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* n = unorm2_getNFDInstance(&status);
    if (U_FAILURE(status)) throw std::runtime_error(std::string("ICU NFD: ") + u_errorName(status));
    return n;
  }();
  return nfd;
}

// Step 4: lower-case the whole word (context rules such as final sigma need the whole word,
// hence ICU's string API rather than per-code-point u_tolower), then NFD and drop Mn marks.
void normalize_word(Scratch& s, bool lower, bool strip) {
  std::vector<UChar32>& word = s.word;
  if (std::all_of(word.begin(), word.end(), [](UChar32 c) { return c < 128; })) {
    // ASCII is its own NFD and has no marks; only lower-casing can change it.
    if (lower) {
      for (UChar32& c : word) c = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    }
    return;
  }
  if (!lower && !strip) return;
  s.u16_in.clear();
  for (UChar32 c : word) {
    char16_t units[2];
    int32_t n = 0;
    U16_APPEND_UNSAFE(units, n, c);
    s.u16_in.append(units, static_cast<size_t>(n));
  }
  if (lower) {
    icu_transform(s.u16_in, s.u16_out,
                  [](const UChar* src, int32_t n, UChar* dst, int32_t cap, UErrorCode* st) {
                    return u_strToLower(dst, cap, src, n, "", st);
                  });
    s.u16_in.swap(s.u16_out);
  }
  if (strip) {
    icu_transform(s.u16_in, s.u16_out,
                  [](const UChar* src, int32_t n, UChar* dst, int32_t cap, UErrorCode* st) {
                    return unorm2_normalize(nfd_instance(), src, n, dst, cap, st);
                  });
    s.u16_in.swap(s.u16_out);
  }
  word.clear();
  const int32_t n = static_cast<int32_t>(s.u16_in.size());
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(s.u16_in.data(), i, n, c);
    if (strip && u_charType(c) == U_NON_SPACING_MARK) continue;
    word.push_back(c);
  }
}

// Steps 5-6: punctuation characters become their own tokens; whitespace separates.
template <class Emit>
void split_punctuation(Scratch& s, Emit& emit) {
  std::string& piece = s.piece;
  piece.clear();
  auto flush = [&] {
    if (!piece.empty()) emit(piece);
    piece.clear();
  };
  for (UChar32 c : s.word) {
    if (is_space(c)) {
      flush();
    } else if (is_punct(c)) {
      flush();
      append_utf8(piece, c);
      flush();
    } else {
      append_utf8(piece, c);
    }
  }
  flush();
}

// The basic tokenizer: calls emit(const std::string&) for each basic token, in order.
// Invalid UTF-8 decodes to U+FFFD, which cleaning drops.
template <class Emit>
void for_each_basic_token(const std::string& text, const TokenizerOptions& options, Scratch& s,
                          Emit emit) {
  const bool lower = options.lower_case;
  const bool strip = options.strip_accents == 1 || (options.strip_accents == -1 && lower);
  auto finish_word = [&] {
    if (s.word.empty()) return;
    normalize_word(s, lower, strip);
    split_punctuation(s, emit);
    s.word.clear();
  };
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int64_t length = static_cast<int64_t>(text.size());
  for (int64_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT_OR_FFFD(bytes, i, length, c);
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;  // step 1: clean
    if (is_space(c)) {                                     // step 3: split
      finish_word();
    } else if (options.tokenize_chinese_chars && is_cjk(c)) {  // step 2: CJK chars alone
      finish_word();
      s.word.push_back(c);
      finish_word();
    } else {
      s.word.push_back(c);
    }
  }
  finish_word();
}

// Greedy longest-match-first WordPiece on one basic token: calls emit(id) per piece, or once
// with [UNK] when the word is too long or some position has no matching piece.
template <class Emit>
void for_each_piece(const Vocab& vocab, const TokenizerOptions& options, size_t max_piece_bytes,
                    const std::string& token, Scratch& s, Emit emit) {
  // Code point boundaries: every byte that is not a UTF-8 continuation byte starts one.
  s.offsets.clear();
  s.offsets.push_back(0);
  for (size_t i = 1; i < token.size(); ++i) {
    if ((static_cast<uint8_t>(token[i]) & 0xC0) != 0x80) s.offsets.push_back(i);
  }
  s.offsets.push_back(token.size());
  const size_t n = token.empty() ? 0 : s.offsets.size() - 1;
  if (n == 0) return;
  if (static_cast<int64_t>(n) > options.max_chars_per_word) {
    emit(vocab.unk_id);
    return;
  }
  s.ids.clear();
  for (size_t start = 0; start < n;) {
    const size_t prefix = start > 0 ? 2 : 0;
    size_t end = n;
    while (end > start && prefix + s.offsets[end] - s.offsets[start] > max_piece_bytes) --end;
    int64_t found = -1;
    for (; end > start; --end) {
      s.candidate.assign(start > 0 ? "##" : "");
      s.candidate.append(token, s.offsets[start], s.offsets[end] - s.offsets[start]);
      found = vocab.id(s.candidate);
      if (found >= 0) break;
    }
    if (found < 0) {
      emit(vocab.unk_id);
      return;
    }
    s.ids.push_back(found);
    start = end;
  }
  for (int64_t id : s.ids) emit(id);
}

}  // namespace

// ---- WordPieceTokenizer ----

WordPieceTokenizer::WordPieceTokenizer(Vocab vocab, TokenizerOptions options)
    : vocab_(std::move(vocab)), options_(options) {
  if (vocab_.unk_id < 0) throw std::invalid_argument("WordPieceTokenizer: vocabulary has no [UNK]");
  for (const std::string& t : vocab_.tokens())
    max_piece_bytes_ = std::max(max_piece_bytes_, t.size());
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(const std::string& text) const {
  std::vector<std::string> out;
  Scratch s;
  for_each_basic_token(text, options_, s, [&](const std::string& t) { out.push_back(t); });
  return out;
}

std::vector<std::string> WordPieceTokenizer::wordpiece(const std::string& token) const {
  std::vector<std::string> out;
  Scratch s;
  for_each_piece(vocab_, options_, max_piece_bytes_, token, s,
                 [&](int64_t id) { out.push_back(vocab_.token(id)); });
  return out;
}

std::vector<std::string> WordPieceTokenizer::tokenize(const std::string& text) const {
  std::vector<std::string> out;
  for (int64_t id : encode(text)) out.push_back(vocab_.token(id));
  return out;
}

std::vector<int64_t> WordPieceTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> out;
  out.reserve(text.size() / 4);
  Scratch s;
  for_each_basic_token(text, options_, s, [&](const std::string& t) {
    for_each_piece(vocab_, options_, max_piece_bytes_, t, s,
                   [&](int64_t id) { out.push_back(id); });
  });
  return out;
}

std::string WordPieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  // Exactly Python's " ".join(tokens).replace(" ##", "").strip().
  std::string joined;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) joined.push_back(' ');
    joined += vocab_.token(ids[i]);
  }
  std::string out;
  out.reserve(joined.size());
  for (size_t i = 0; i < joined.size();) {
    if (joined.compare(i, 3, " ##") == 0) {
      i += 3;
    } else {
      out.push_back(joined[i++]);
    }
  }
  const char* ws = " \t\n\r\v\f";
  const size_t first = out.find_first_not_of(ws);
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(ws) - first + 1);
}

}  // namespace zoo
