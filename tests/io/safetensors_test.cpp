// safetensors: hand-built files byte by byte, hostile headers, round trips, and Python's own
// safetensors library reading ours and writing what we read (when the reference venv exists).
#include "io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/error.h"
#include "io/safetensors_format.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

// 8-byte little-endian length, header, data.
std::string file_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

// Each test's files in a folder of its own, removed after it.
class Safetensors : public testing::ScratchDirTest {};

std::string error_of(const std::string& bytes) {
  try {
    safetensors::parse(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "f.safetensors");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST_F(Safetensors, ReadsAHandBuiltFile) {
  // Two float32 values 1.0, -2.0 (0x3f800000, 0xc0000000 little-endian) and one int64 7.
  const std::string data = std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8) + std::string("\x07\0\0\0\0\0\0\0", 8);
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},)"
      R"("__metadata__":{"format":"pt"}})";
  std::map<std::string, std::string> meta;
  const auto t = read_safetensors(write_temp("hand.safetensors", file_bytes(header, data)), &meta);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_TRUE(torch::equal(t.at("a"), torch::tensor({1.0f, -2.0f})));
  EXPECT_EQ(t.at("b").dim(), 0);
  EXPECT_EQ(t.at("b").item<int64_t>(), 7);
  EXPECT_EQ(meta.at("format"), "pt");
}

TEST_F(Safetensors, RoundTripsEveryDtype) {
  std::vector<std::pair<std::string, torch::Tensor>> in = {
      {"f64", torch::randn({2, 3}, torch::kFloat64)}, {"f32", torch::randn({4})},
      {"f16", torch::randn({3}).to(torch::kHalf)},    {"bf16", torch::randn({1, 2}).to(torch::kBFloat16)},
      {"i64", torch::arange(5)},                       {"i32", torch::arange(3).to(torch::kInt)},
      {"i16", torch::arange(2).to(torch::kShort)},     {"i8", torch::tensor({-3, 4}).to(torch::kChar)},
      {"u8", torch::tensor({250, 1}).to(torch::kByte)}, {"bool", torch::tensor({true, false})},
      {"empty", torch::zeros({0, 5})},                 {"strided", torch::randn({4, 4}).t()}};
  const std::string path = temp_path("all.safetensors");
  write_safetensors(path, in);
  const auto out = read_safetensors(path);
  ASSERT_EQ(out.size(), in.size());
  for (const auto& [name, t] : in) {
    EXPECT_EQ(out.at(name).scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(out.at(name), t)) << name;
  }
  // The header is padded to 8 bytes with spaces, as the Python library writes it.
  std::ifstream f(path, std::ios::binary);
  unsigned char len[8];
  f.read(reinterpret_cast<char*>(len), 8);
  EXPECT_EQ(len[0] % 8, 0);
}

TEST_F(Safetensors, RejectsHostileFilesWithOneLine) {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string four(4, '\0');
  EXPECT_EQ(error_of(file_bytes(ok, four)), "");
  EXPECT_NE(error_of("abc").find("shorter than"), std::string::npos);
  std::string huge(8, '\xff');
  EXPECT_NE(error_of(huge + "{}").find("exceeds the limit"), std::string::npos);
  std::string past = file_bytes(ok, four);
  past[0] = static_cast<char>(past[0] + 100);
  EXPECT_NE(error_of(past).find("runs past the end"), std::string::npos);
  EXPECT_NE(error_of(file_bytes("[1,2]", "")).find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(file_bytes("{\"a\":", "")).find(": header:1: invalid JSON"), std::string::npos);
  const auto with = [&](const std::string& info, const std::string& data) {
    return error_of(file_bytes("{\"a\":" + info + "}", data));
  };
  EXPECT_NE(with(R"({"dtype":"F8","shape":[1],"data_offsets":[0,1]})", "x").find("unsupported dtype"), std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", four).find("non-negative"), std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[2],"data_offsets":[0,4]})", four + four).find("need 8"), std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})", four).find("more bytes than the file"),
            std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[1],"data_offsets":[0,8]})", four).find("outside"), std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[1],"data_offsets":[4,0]})", four).find("outside"), std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1})", four).find("unknown field"), std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[1]})", four).find("needs dtype"), std::string::npos);
  // A shape whose product overflows 64 bits must not wrap around to a small size.
  EXPECT_NE(with(R"({"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]})", four).find("more bytes"),
            std::string::npos);
  EXPECT_NE(with(R"({"dtype":"BOOL","shape":[4],"data_offsets":[0,4]})", std::string("\0\1\2\0", 4)).find("BOOL"),
            std::string::npos);
  EXPECT_NE(with(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})", four + "junk").find("after the last"),
            std::string::npos);
  // Overlap, gap and duplicate names.
  EXPECT_NE(error_of(file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", four))
                .find("overlaps"),
            std::string::npos);
  EXPECT_NE(error_of(file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", four + four)).find("a gap"),
            std::string::npos);
  EXPECT_NE(error_of(file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", four + four))
                .find("appears twice"),
            std::string::npos);
  EXPECT_NE(error_of(file_bytes(R"({"__metadata__":{"k":1}})", "")).find("must be a string"), std::string::npos);
  // Every message names the file.
  EXPECT_EQ(error_of("abc").rfind("f.safetensors: ", 0), 0u);
}

TEST_F(Safetensors, ReadWeightsFileDispatchesOnTheExtension) {
  const std::string path = temp_path("w.safetensors");
  write_safetensors(path, {{"x", torch::ones({2})}});
  EXPECT_TRUE(torch::equal(read_weights_file(path).at("x"), torch::ones({2})));
  EXPECT_THROW(read_weights_file(temp_path("missing.safetensors")), UserError);
}

// Python's safetensors reads our file and writes one we read: the format is the library's.
TEST_F(Safetensors, PythonLibraryParity) {
  const std::string python = std::string(ZOO_SOURCE_DIR) + "/build-py/venv/bin/python";
  if (!fs::exists(python)) GTEST_SKIP() << "no reference venv (scripts/setup_python_refs.sh creates build-py/venv)";
  const std::string ours = temp_path("ours.safetensors"), theirs = temp_path("theirs.safetensors");
  write_safetensors(ours, {{"w", torch::arange(6, torch::kFloat32).view({2, 3})}, {"h", torch::tensor({1.5}).to(torch::kHalf)}});
  const std::string script =
      "import torch, sys\n"
      "from safetensors.torch import load_file, save_file\n"
      "t = load_file(sys.argv[1])\n"
      "assert torch.equal(t['w'], torch.arange(6, dtype=torch.float32).view(2, 3)), t\n"
      "assert t['h'].dtype == torch.float16 and t['h'].item() == 1.5\n"
      "save_file({'b': torch.tensor([[1, 0]], dtype=torch.bool), 'x': torch.tensor([2.5, -1.0], dtype=torch.bfloat16)},"
      " sys.argv[2], metadata={'format': 'pt'})\n";
  const std::string script_path = temp_path("parity.py");
  std::ofstream(script_path) << script;
  ASSERT_EQ(std::system((python + " " + script_path + " " + ours + " " + theirs).c_str()), 0);
  const auto t = read_safetensors(theirs);
  EXPECT_TRUE(torch::equal(t.at("b"), torch::tensor({{true, false}})));
  EXPECT_TRUE(torch::equal(t.at("x"), torch::tensor({2.5, -1.0}).to(torch::kBFloat16)));
}

}  // namespace
}  // namespace zoo
