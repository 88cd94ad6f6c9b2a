// Hostile files at the io layer (issue 29): special files refused by what they are before a byte
// is read; JSON nesting, repeated keys and messages bounded; zip records that would inflate or
// reach past the file refused before LibTorch allocates them; a safetensors header of 90,000
// entries parsed in O(n log n) and one of 100,001 refused; NaN and infinity in a checkpoint's
// weights named by tensor.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

#include "io/error.h"
#include "io/formats/hf_bert.h"
#include "io/json_file.h"
#include "io/json_text.h"
#include "io/safetensors.h"
#include "io/safetensors_format.h"
#include "io/torch_save.h"
#include "io/user_file.h"
#include "io/zip_records.h"
#include "models/bert.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// Each test's files in a folder of its own, removed after it.
class HostileFiles : public testing::ScratchDirTest {};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(HostileFiles, SpecialFilesAreRefusedByWhatTheyAreWithoutBlocking) {
  const std::string fifo = temp_path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // No writer ever opens the FIFO: a blocking open() would hang this test.
  EXPECT_EQ(error_of([&] { read_json_file(fifo); }), fifo + ": is a FIFO, not a regular file");
  EXPECT_EQ(error_of([&] { read_json_file("/dev/zero"); }), "/dev/zero: is a character device, not a regular file");
  EXPECT_EQ(error_of([&] { read_weights_file(fifo); }), fifo + ": is a FIFO, not a regular file");
  EXPECT_EQ(error_of([&] { read_torch_tensor_dict("/dev/zero"); }), "/dev/zero: is a character device, not a regular file");
  const std::string dir = temp_path("dir");
  fs::create_directories(dir);
  EXPECT_EQ(error_of([&] { read_json_file(dir); }), dir + ": is a directory, not a regular file");
  EXPECT_EQ(error_of([&] { read_json_file(dir + "/none.json"); }), dir + "/none.json: missing");
  // A link is followed to what it names.
  fs::create_symlink("/dev/zero", dir + "/zero.json");
  EXPECT_EQ(error_of([&] { read_json_file(dir + "/zero.json"); }), dir + "/zero.json: is a character device, not a regular file");
  // The size bound holds before reading: a sparse file one byte over it is refused unread.
  const std::string big = dir + "/big.json";
  std::ofstream(big) << "{}";
  fs::resize_file(big, kMaxSettingsFileBytes + 1);
  EXPECT_EQ(error_of([&] { read_json_file(big); }),
            big + ": " + std::to_string(kMaxSettingsFileBytes + 1) + " bytes, over the " +
                std::to_string(kMaxSettingsFileBytes) + "-byte limit for a JSON file");
}

TEST_F(HostileFiles, DeepJsonIsRefusedAtParseTime) {
  // The example: a 100,000-deep array crashed in the recursive dump() of the message.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of([&] { parse_json_text(deep, "c.json"); }), "c.json: invalid JSON: nested deeper than 64 levels");
  // Objects count too, and a config's value deep inside one.
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1" + std::string(65, '}');
  EXPECT_EQ(error_of([&] { parse_json_text(objects, "c.json"); }), "c.json: invalid JSON: nested deeper than 64 levels");
  objects.erase(0, 5);
  objects.pop_back();
  EXPECT_EQ(parse_json_text(objects, "c.json").size(), 1u);  // 64 levels are fine
  EXPECT_EQ(error_of([&] { parse_json_text("{\"a\": 1,\n \"a\": 2}", "c.json"); }),
            "c.json: invalid JSON: the key \"a\" appears twice in one object");
  EXPECT_EQ(error_of([&] { parse_json_text("{\n\n x", "c.json"); }).rfind("c.json:3: invalid JSON: ", 0), 0u);
}

TEST_F(HostileFiles, MessagesQuoteUntrustedValuesAtBoundedLength) {
  // A 20 MB string, unterminated (nlohmann's message quotes the whole token), then valid but
  // of the wrong type (our messages quote the value).
  const std::string huge(20u << 20, 'x');
  const std::string syntax = error_of([&] { parse_json_text("{\"a\": \"" + huge, "c.json"); });
  EXPECT_EQ(syntax.rfind("c.json:1: invalid JSON: ", 0), 0u) << syntax.substr(0, 300);
  EXPECT_LT(syntax.size(), 400u);
  EXPECT_EQ(json_excerpt(Json(huge)), "\"" + std::string(60, 'x') + "\"...");
  EXPECT_EQ(json_excerpt(Json::array({1, 2, 3})), "an array of 3 values");
  EXPECT_EQ(json_excerpt(Json("caf\xc3\xa9")), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_excerpt(Json(std::string("\xff\xfe"))), "\"\xef\xbf\xbd\xef\xbf\xbd\"");  // invalid UTF-8: no throw
  // Cut at a character boundary: 59 ASCII bytes then a 2-byte character straddling byte 60.
  EXPECT_EQ(text_excerpt(std::string(59, 'a') + "\xc3\xa9" + "tail"), std::string(59, 'a') + "...");
}

// A torch.save zip's central-directory entry for `record`: the offset of its 46-byte header.
size_t directory_entry(const std::string& zip, const std::string& record) {
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos; at = zip.find("PK\x01\x02", at + 1))
    if (zip.compare(at + 46, record.size(), record) == 0) return at;
  return std::string::npos;
}

TEST_F(HostileFiles, CompressedOrOversizedZipRecordsAreRefusedBeforeInflating) {
  const std::string path = temp_path("w.bin");
  write_torch_tensor_dict(path, {{"w", torch::arange(6, torch::kFloat32)}});
  EXPECT_EQ(read_torch_tensor_dict(path).at("w").sum().item<float>(), 15.0f);  // the control
  const std::string good = bytes_of(path);
  const size_t pkl = directory_entry(good, "archive/data.pkl");
  ASSERT_NE(pkl, std::string::npos);
  // The example: a deflated data.pkl stating 2 GB uncompressed (a zip bomb); LibTorch
  // would allocate the stated size, then inflate.
  std::string zip = good;
  zip[pkl + 10] = 8;
  zip[pkl + 24 + 3] = 0x7f;
  std::ofstream(path, std::ios::binary) << zip;
  EXPECT_NE(error_of([&] { read_torch_tensor_dict(path); }).find(path + ": record 'archive/data.pkl' inflates to 2130"),
            std::string::npos)
      << error_of([&] { read_torch_tensor_dict(path); });
  // Tensor data deflated at all: torch.save never does that.
  zip = good;
  zip[directory_entry(good, "archive/data/0") + 10] = 8;
  std::ofstream(path, std::ios::binary) << zip;
  EXPECT_EQ(error_of([&] { read_torch_tensor_dict(path); }),
            path + ": record 'archive/data/0' is compressed (method 8); torch.save stores tensor data uncompressed, "
                   "and a compressed record could inflate to any size");
  // A stored record that states 2 GB: LibTorch allocates the stated size before reading.
  zip = good;
  const size_t data = directory_entry(good, "archive/data/0");
  ASSERT_NE(data, std::string::npos);
  for (size_t i : {20, 24}) zip[data + i + 3] = 0x7f;  // compressed and uncompressed size 0x7f......
  std::ofstream(path, std::ios::binary) << zip;
  const std::string e = error_of([&] { read_torch_tensor_dict(path); });
  EXPECT_NE(e.find("record 'archive/data/0': its stated size ("), std::string::npos) << e;
  EXPECT_NE(e.find("lies outside the " + std::to_string(zip.size()) + "-byte file"), std::string::npos) << e;
  // Not a zip at all.
  std::ofstream(path, std::ios::binary) << std::string(100, 'x');
  EXPECT_EQ(error_of([&] { read_torch_tensor_dict(path); }), path + ": not a zip archive (no end-of-directory record)");
}

// A safetensors file of `n` empty F32 tensors (shape [0], data_offsets [0, 0]).
std::string empty_entries(size_t n) {
  std::string header = "{";
  for (size_t i = 0; i < n; ++i)
    header += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
  header += "}";
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header;
}

TEST_F(HostileFiles, SafetensorsHeaderParsesInNLogNAndBoundsItsEntryCount) {
  // 90,000 entries: the callback parser used before scanned the whole object after each entry
  // (4e9 steps here, minutes; the 900,000 took hours).
  const std::string file = empty_entries(90000);
  const auto start = std::chrono::steady_clock::now();
  const auto layout = safetensors::parse(reinterpret_cast<const unsigned char*>(file.data()), file.size(), "f");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(layout.entries.size(), 90000u);
  // ~0.3 s on this machine alone; 20 s leaves room for a loaded 2-core CI box and is still far
  // below the quadratic parse's minutes.
  EXPECT_LT(seconds, 20.0);
  const std::string over = empty_entries(safetensors::kMaxEntries + 1);
  EXPECT_EQ(error_of([&] { safetensors::parse(reinterpret_cast<const unsigned char*>(over.data()), over.size(), "f"); }),
            "f: 100001 tensors, over the limit of 100000");
  // A deep header is refused like any deep JSON.
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<size_t>(i)] = static_cast<char>((deep.size() >> (8 * i)) & 0xff);
  bytes += deep;
  EXPECT_EQ(error_of([&] { safetensors::parse(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "f"); }),
            "f: header: invalid JSON: nested deeper than 64 levels");
}

TEST_F(HostileFiles, NonFiniteWeightsAreRefusedNamingTheTensor) {
  BertConfig c;
  c.vocab_size = 11, c.hidden_size = 8, c.num_layers = 1, c.num_heads = 2, c.intermediate_size = 16, c.max_position = 32;
  BertModel source(c, /*with_pooler=*/false), target(c, false);
  auto state = hf_bert_state(*source);
  // The example: NaN in a LayerNorm weight (safetensors); then infinity in the word
  // embeddings of a torch.save .bin.
  const std::string st = temp_path("nan") + ".safetensors", bin = temp_path("inf") + ".bin";
  for (auto& [name, t] : state)
    if (name == "embeddings.LayerNorm.weight") t = t.clone().index_put_({2}, std::numeric_limits<float>::quiet_NaN());
  write_safetensors(st, state);
  EXPECT_EQ(error_of([&] { load_hf_bert_weights(st, *target); }),
            st + ": tensor 'embeddings.LayerNorm.weight' holds 1 NaN or infinite values");
  state = hf_bert_state(*source);
  for (auto& [name, t] : state)
    if (name == "embeddings.word_embeddings.weight") t = t.clone().fill_(std::numeric_limits<float>::infinity());
  write_torch_tensor_dict(bin, state);
  EXPECT_EQ(error_of([&] { load_hf_bert_weights(bin, *target); }),
            bin + ": tensor 'embeddings.word_embeddings.weight' holds 88 NaN or infinite values");
}

}  // namespace
}  // namespace zoo
