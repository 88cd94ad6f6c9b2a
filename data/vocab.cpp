#include "data/vocab.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "data/utf8.h"
#include "io/error.h"
#include "io/user_file.h"

namespace zoo {
namespace {

// Name of the first special token missing from `ids`, or nullptr.
const char* missing_special(const std::unordered_map<std::string, int64_t>& ids) {
  for (const char* special : kSpecialTokens) {
    if (ids.find(special) == ids.end()) return special;
  }
  return nullptr;
}

std::unordered_map<std::string, int64_t> index_tokens(const std::vector<std::string>& tokens) {
  std::unordered_map<std::string, int64_t> ids;
  ids.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    ids.emplace(tokens[i], static_cast<int64_t>(i));  // duplicates keep the first id, as HF
  }
  return ids;
}

}  // namespace

Vocab::Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  ids_ = index_tokens(tokens_);
  if (const char* missing = missing_special(ids_)) {
    throw std::runtime_error(std::string("vocab: missing special token ") + missing);
  }
  pad_id = ids_.at("[PAD]");
  unk_id = ids_.at("[UNK]");
  cls_id = ids_.at("[CLS]");
  sep_id = ids_.at("[SEP]");
  mask_id = ids_.at("[MASK]");
}

Vocab Vocab::load(const std::string& path) {
  // A regular file, bounded before it is read (a FIFO or /dev/zero is refused by what it is);
  // lines at most 1 MiB, as every text file's.
  constexpr size_t kMaxLineBytes = 1u << 20;
  const std::string text = read_user_file(path, kMaxSettingsFileBytes, "a vocabulary");
  std::vector<std::string> tokens;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, std::min(end - start, kMaxLineBytes + 1));
    const std::string where = path + ":" + std::to_string(tokens.size() + 1);
    if (end - start > kMaxLineBytes)
      throw UserError(where + ": line of " + std::to_string(end - start) + " bytes exceeds the limit of " +
                      std::to_string(kMaxLineBytes));
    while (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files
    if (!valid_utf8(line)) throw UserError(where + ": invalid UTF-8 (not a vocab.txt?)");
    tokens.push_back(std::move(line));
    start = end + 1;
  }
  if (tokens.empty()) throw UserError(path + ": empty vocabulary file");
  if (const char* missing = missing_special(index_tokens(tokens))) {
    throw UserError(path + ": missing special token " + missing);
  }
  return Vocab(std::move(tokens));
}

void Vocab::save(const std::string& path) const {
  for (size_t i = 0; i < tokens_.size(); ++i) {  // checked before touching the disk
    if (tokens_[i].find_first_of("\r\n") != std::string::npos) {
      throw UserError(path + ": token " + std::to_string(i) + " contains a line break");
    }
  }
  // Write-then-rename: a reader never sees a half-written vocab.txt.
  const std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";  // one per writer
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw UserError(tmp + ": cannot open for writing");
  for (const std::string& t : tokens_) out << t << '\n';
  out.close();
  const bool written = static_cast<bool>(out);
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw UserError(written ? path + ": cannot rename " + tmp + " into place"
                                     : tmp + ": write error");
  }
}

int64_t Vocab::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

const std::string& Vocab::token(int64_t id) const {
  if (id < 0 || id >= size()) {
    throw std::out_of_range("vocab: id " + std::to_string(id) + " outside [0, " +
                            std::to_string(size()) + ")");
  }
  return tokens_[static_cast<size_t>(id)];
}

}  // namespace zoo
