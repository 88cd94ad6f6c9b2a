// The torch.save reader on hostile files: hand-written pickles zipped as torch.save lays them out,
// each a case the fuzzer (tests/fuzz/torch_save_fuzz.cpp) found or that its fix covers. Reading
// good files is tested with the models' weights (tests/io/hf_bert_test.cpp).
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "io/error.h"
#include "io/torch_save.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;  // pickles hold NUL bytes

// Each test's files in a folder of its own, removed after it.
class TorchSaveRead : public testing::ScratchDirTest {
 protected:
  // A torch.save zip holding `pickle` as data.pkl and storage record data/0 (4 floats 1 2 3 4)
  // and data/1 (empty).
  std::string write_pt(const std::string& name, const std::string& pickle) const {
    const std::string path = temp_path(name);
    caffe2::serialize::PyTorchStreamWriter writer(path);
    const float values[4] = {1, 2, 3, 4};
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    writer.writeRecord("data/0", values, sizeof values);
    writer.writeRecord("data/1", values, 0);
    writer.writeEndOfFile();
    return path;
  }
};

std::string error_of(const std::string& path) {
  try {
    read_torch_tensor_dict(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string str(const std::string& s) {  // BINUNICODE
  const auto n = static_cast<uint32_t>(s.size());
  return std::string("X") + char(n & 0xff) + char(n >> 8 & 0xff) + char(n >> 16 & 0xff) + char(n >> 24) + s;
}
std::string i32(int32_t v) {  // BININT
  const auto u = static_cast<uint32_t>(v);
  return std::string("J") + char(u & 0xff) + char(u >> 8 & 0xff) + char(u >> 16 & 0xff) + char(u >> 24);
}

// {"w": tensor on storage `key` of `storage_type`, offset, one dimension of `size` and `stride`}.
std::string tensor_dict(const std::string& key, const std::string& storage_type, int32_t offset, int32_t size,
                        int32_t stride) {
  return "\x80\x02}(" + str("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" + str("storage") + "ctorch\n" +
         storage_type + "\n" + str(key) + str("cpu") + "K\x04tQ" + i32(offset) + i32(size) + "\x85" + i32(stride) +
         "\x85\x89" + "ccollections\nOrderedDict\n)RtRu.";
}

TEST_F(TorchSaveRead, HandWrittenPickleReads) {  // the fixture itself is right
  const auto dict = read_torch_tensor_dict(write_pt("ok.pt", tensor_dict("0", "FloatStorage", 1, 2, 2)));
  ASSERT_EQ(dict.size(), 1u);
  EXPECT_TRUE(dict.at("w").equal(torch::tensor({2.0f, 4.0f})));
}

// Found by review, confirmed with the fuzz target (libFuzzer out-of-memory): set_ grew the
// 4-element storage to the size the file named (here 4 GB of uninitialised memory) instead of
// refusing a view outside it.
TEST_F(TorchSaveRead, ViewOutsideItsStorageIsRefused) {
  const auto path = write_pt("big.pt", tensor_dict("0", "FloatStorage", 0, 1000000000, 1));
  EXPECT_EQ(error_of(path), path + ": cannot read this torch.save file: tensor of 1000000000 elements reaches "
                                   "element 999999999 of a storage of 4");
  auto error = [this](const std::string& name, int32_t offset, int32_t size, int32_t stride) {
    return error_of(write_pt(name, tensor_dict("0", "FloatStorage", offset, size, stride)));
  };
  EXPECT_NE(error("off.pt", 3, 2, 1).find("tensor of 2 elements reaches element 4 of a storage of 4"), std::string::npos);
  EXPECT_NE(error("neg.pt", 0, 2, -1).find("negative tensor size or stride"), std::string::npos);
  EXPECT_NE(error("far.pt", 0, 2, 0x7fffffff).find("reaches element 2147483647"), std::string::npos);
}

// Found by fuzzing (UBSan): an empty storage record was copied with memcpy(nullptr, ..., 0).
TEST_F(TorchSaveRead, EmptyStorageRecordGivesAnEmptyTensor) {
  const auto dict = read_torch_tensor_dict(write_pt("empty.pt", tensor_dict("1", "FloatStorage", 0, 0, 1)));
  EXPECT_EQ(dict.at("w").numel(), 0);
}

// A list that contains itself (memo + APPEND) was a reference cycle that leaked (found by review,
// confirmed by LeakSanitizer in the fuzz target); 200000 nested lists were freed recursively.
// Both are now refused as what they are, not a dict, and freed with the reader.
TEST_F(TorchSaveRead, CyclicAndDeeplyNestedPicklesAreRefused) {
  const auto cyclic = write_pt("cycle.pt", "\x80\x02]q\x00h\x00" "a."s);
  EXPECT_EQ(error_of(cyclic), cyclic + ": expected a dict of tensors");
  const int depth = 200000;
  const auto deep = write_pt("deep.pt", "\x80\x02" + std::string(depth, ']') + std::string(depth - 1, 'a') + ".");
  EXPECT_EQ(error_of(deep), deep + ": expected a dict of tensors");
}

// Found by review, confirmed with the fuzz target (hang): STACK_GLOBAL joins two strings of the
// stack, so 24 repetitions of "join the memo'd string with itself" asked for a 16 GB string from
// a 150-byte pickle.
TEST_F(TorchSaveRead, StackGlobalNamesAreBounded) {
  std::string pickle = "\x80\x02" + str(std::string(1000, 'a')) + "q\x00"s;
  for (int i = 0; i < 24; ++i) pickle += "h\x00h\x00\x93q\x00"s;
  const auto path = write_pt("global.pt", pickle + ".");
  EXPECT_EQ(error_of(path), path + ": cannot read this torch.save file: global name longer than 256 bytes");
}

TEST(UserErrorMessage, ControlBytesAreEscapedToKeepOneLine) {
  EXPECT_STREQ(UserError("a\nb\r\x01\x7f\tc\xC3\xA9").what(), "a\\nb\\r\\x01\\x7f\tc\xC3\xA9");
}

}  // namespace
}  // namespace zoo
