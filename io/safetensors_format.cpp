#include "io/safetensors_format.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/json_text.h"

namespace zoo::safetensors {

using Json = nlohmann::json;

size_t element_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

namespace {

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint64_t to_offset(const Json& v, const std::string& where) {
  if (!v.is_number_unsigned()) throw UserError(where + " must hold non-negative integers");
  return v.get<uint64_t>();
}

// One tensor's header entry, checked against the data buffer's size.
Entry parse_entry(const std::string& name, const Json& info, uint64_t buffer_size, const std::string& what) {
  const std::string where = what + ": tensor '" + name + "'";
  if (!info.is_object()) throw UserError(where + ": expected an object");
  for (const auto& [key, value] : info.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      throw UserError(where + ": unknown field '" + key + "'");
  if (!info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
    throw UserError(where + ": needs dtype, shape and data_offsets");
  Entry e;
  e.name = name;
  if (!info["dtype"].is_string() || element_size(info["dtype"].get<std::string>()) == 0)
    throw UserError(where + ": unsupported dtype " + info["dtype"].dump() +
                    " (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
  e.dtype = info["dtype"].get<std::string>();
  const Json& shape = info["shape"];
  if (!shape.is_array() || shape.size() > kMaxRank)
    throw UserError(where + ": shape must be an array of at most " + std::to_string(kMaxRank) + " sizes");
  // The byte size can only be valid if it fits the buffer; checking against it as we multiply
  // rules out overflow. A zero dimension makes the tensor empty whatever the others are.
  bool empty = false;
  uint64_t bytes = element_size(e.dtype);
  for (const auto& dim : shape) {
    const uint64_t d = to_offset(dim, where + ": shape");
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw UserError(where + ": shape size " + std::to_string(d) + " is too large");
    e.shape.push_back(static_cast<int64_t>(d));
    if (d == 0) empty = true;
  }
  if (empty) {
    bytes = 0;
  } else {
    for (const int64_t d : e.shape) {
      if (bytes > buffer_size / static_cast<uint64_t>(d))
        throw UserError(where + ": shape needs more bytes than the file holds");
      bytes *= static_cast<uint64_t>(d);
    }
  }
  const Json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) throw UserError(where + ": data_offsets must be [begin, end]");
  e.begin = to_offset(offsets[0], where + ": data_offsets");
  e.end = to_offset(offsets[1], where + ": data_offsets");
  if (e.begin > e.end || e.end > buffer_size)
    throw UserError(where + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                    "] lie outside the " + std::to_string(buffer_size) + "-byte data buffer");
  if (e.end - e.begin != bytes)
    throw UserError(where + ": data_offsets span " + std::to_string(e.end - e.begin) + " bytes, its dtype and shape need " +
                    std::to_string(bytes));
  return e;
}

}  // namespace

Layout parse(const unsigned char* bytes, size_t size, const std::string& what) {
  if (size < 8) throw UserError(what + ": not a safetensors file (shorter than its 8-byte header length)");
  const uint64_t n = read_u64_le(bytes);
  if (n > kMaxHeaderBytes) throw UserError(what + ": header length " + std::to_string(n) + " exceeds the limit of 100 MB");
  if (n > size - 8)
    throw UserError(what + ": header length " + std::to_string(n) + " runs past the end of the file (" +
                    std::to_string(size) + " bytes)");
  if (n < 2 || bytes[8] != '{') throw UserError(what + ": the header is not a JSON object");
  // One bounded parse (io/json_text.h): nesting bounded, a name twice is an error (nlohmann would
  // keep the last silently, and a checkpoint with two tensors of one name is ambiguous), and
  // O(n log n): nlohmann's callback parser, used before, erased each discarded value with a
  // linear scan, hours for 900k entries.
  const Json header = parse_json_text(
      std::string_view(reinterpret_cast<const char*>(bytes + 8), static_cast<size_t>(n)),
      what + ": header", /*comments=*/false);
  if (!header.is_object()) throw UserError(what + ": the header is not a JSON object");
  if (const size_t tensors = header.size() - (header.contains("__metadata__") ? 1 : 0); tensors > kMaxEntries)
    throw UserError(what + ": " + std::to_string(tensors) + " tensors, over the limit of " + std::to_string(kMaxEntries));

  Layout layout;
  layout.data_start = 8 + n;
  const uint64_t buffer_size = size - layout.data_start;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw UserError(what + ": __metadata__ must be an object");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) throw UserError(what + ": __metadata__ '" + key + "' must be a string");
        layout.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    if (name.empty()) throw UserError(what + ": a tensor has an empty name");
    layout.entries.push_back(parse_entry(name, info, buffer_size, what));
  }
  // The ranges must tile the buffer: sorted by start, each begins where the previous ended.
  std::sort(layout.entries.begin(), layout.entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t cursor = 0;
  for (const Entry& e : layout.entries) {
    if (e.begin != cursor)
      throw UserError(what + ": tensor '" + e.name + "' starts at byte " + std::to_string(e.begin) + " of the data, expected " +
                      std::to_string(cursor) + (e.begin < cursor ? " (overlaps the previous tensor)" : " (a gap)"));
    cursor = e.end;
  }
  if (cursor != buffer_size)
    throw UserError(what + ": " + std::to_string(buffer_size - cursor) + " bytes after the last tensor's data");
  for (const Entry& e : layout.entries)
    if (e.dtype == "BOOL")
      for (uint64_t i = e.begin; i < e.end; ++i)
        if (bytes[layout.data_start + i] > 1) throw UserError(what + ": tensor '" + e.name + "' has a BOOL byte other than 0 or 1");
  return layout;
}

std::string make_header(const std::vector<Entry>& entries, const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (const Entry& e : entries) {
    if (e.name.empty() || e.name == "__metadata__" || header.contains(e.name))
      throw UserError("safetensors: invalid or repeated tensor name '" + e.name + "'");
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  return out + text;
}

}  // namespace zoo::safetensors
