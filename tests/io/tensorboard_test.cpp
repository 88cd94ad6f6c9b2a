// TensorBoard events files: CRC-32C against its published test vectors, the framing read back,
// the trimming a resumed run does, and damaged files. That TensorBoard itself reads what we
// write is tested with its own reader (tests/apps/tensorboard_cli_test.cpp).
#include "io/tensorboard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "tests/scratch_dir.h"

namespace zoo {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> events_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int64_t> steps_of(const std::string& path) {
  std::vector<int64_t> steps;
  for (const auto& r : read_tensorboard_records(path)) steps.push_back(r.step);
  return steps;
}

// A PNG's first 24 bytes: signature, IHDR length and type, width and height (big-endian).
std::string png_header(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (const uint32_t v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) png += static_cast<char>((v >> shift) & 0xff);
  return png;
}

TEST(Crc32c, MatchesTheStandardTestVectors) {
  // The check value of the CRC catalogue, and RFC 3720 (iSCSI) appendix B.4.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0'), ones(32, '\xff');
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending += static_cast<char>(i);
    descending += static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending.data(), 32), 0x113FDB5Cu);
  // Continuing a checksum equals checksumming the whole.
  EXPECT_EQ(crc32c("56789", 5, crc32c("1234", 4)), 0xE3069283u);
}

TEST(TensorBoardWriter, RecordsReadBackWithTheirSteps) {
  const testing::ScratchDir scratch("zoo_tensorboard_roundtrip");
  const std::string dir = scratch.path().string();
  {
    TensorBoardWriter w(dir);
    for (int64_t s = 1; s <= 3; ++s) w.scalar("train/loss", 1.0 / static_cast<double>(s), s);
    w.text("config", "    {}", 0);
    w.hparams_start({{"optim.lr", 0.1}, {"optim.name", std::string("sgd")}, {"data.augment", true}}, 0);
    w.image_png("pictures/x", png_header(3, 2) + "rest of the file", 3);
    w.hparams_end(true, 3);
  }
  const auto files = events_files(dir);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_NE(files[0].find("events.out.tfevents."), std::string::npos);
  // file_version, 3 scalars, text, session start, image, session end.
  EXPECT_EQ(steps_of(files[0]), (std::vector<int64_t>{0, 1, 2, 3, 0, 0, 3, 3}));
  EXPECT_NE(read_tensorboard_records(files[0])[0].event.find("brain.Event:2"), std::string::npos);
}

TEST(TensorBoardWriter, AResumedRunDropsTheStepsLoggedAfterItsCheckpoint) {
  const testing::ScratchDir scratch("zoo_tensorboard_resume");
  const std::string dir = scratch.path().string();
  {
    TensorBoardWriter killed(dir);
    for (int64_t s = 1; s <= 6; ++s) killed.scalar("train/loss", 1.0, s);
  }
  const std::string first = events_files(dir).at(0);
  // The checkpoint was at step 3: steps 4..6 were logged by the process that died.
  TensorBoardWriter resumed(dir, /*first_step=*/4);
  EXPECT_EQ(steps_of(first), (std::vector<int64_t>{0, 1, 2, 3}));
  // The new file: file_version, then SessionLog START at the first step it logs.
  EXPECT_EQ(steps_of(resumed.path()), (std::vector<int64_t>{0, 4}));
  EXPECT_NE(read_tensorboard_records(resumed.path())[1].event.find("resumed"), std::string::npos);
  EXPECT_EQ(events_files(dir).size(), 2u);
  // A new run in the same directory starts with no old events.
  TensorBoardWriter fresh(dir, 0);
  EXPECT_EQ(events_files(dir), std::vector<std::string>{fresh.path()});
}

TEST(TensorBoardWriter, ATornLastRecordIsIgnoredAndDroppedOnResume) {
  const testing::ScratchDir scratch("zoo_tensorboard_torn");
  const std::string dir = scratch.path().string();
  std::string path;
  {
    TensorBoardWriter w(dir);
    w.scalar("a", 1.0, 1);
    path = w.path();
  }
  const auto whole = fs::file_size(path);
  std::ofstream(path, std::ios::app | std::ios::binary) << std::string("\x20\0\0\0\0\0\0\0\x01\x02", 10);
  EXPECT_EQ(steps_of(path), (std::vector<int64_t>{0, 1}));
  TensorBoardWriter resumed(dir, 2);
  EXPECT_EQ(fs::file_size(path), whole);
}

TEST(TensorBoardWriter, ADamagedFileIsAnErrorNamingItAndTheOffset) {
  const testing::ScratchDir scratch("zoo_tensorboard_damaged");
  const std::string dir = scratch.path().string();
  std::string path;
  {
    TensorBoardWriter w(dir);
    w.scalar("a", 1.0, 1);
    path = w.path();
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t second = bytes.size() - 1;  // the last byte of the second record's data checksum
  bytes[second] = static_cast<char>(bytes[second] ^ 1);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    read_tensorboard_records(path);
    FAIL() << "expected a checksum error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": record at byte "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad data checksum"), std::string::npos) << e.what();
  }
}

TEST(PngSize, ReadsTheHeaderAndRefusesAnythingElse) {
  EXPECT_EQ(png_size(png_header(640, 480), "x.png"), std::make_pair(640, 480));
  EXPECT_THROW(png_size("GIF89a" + std::string(30, '\0'), "x.gif"), UserError);
  EXPECT_THROW(png_size(png_header(0, 5), "empty.png"), UserError);
  EXPECT_THROW(png_size(png_header(3, 2).substr(0, 20), "short.png"), UserError);
  const testing::ScratchDir scratch("zoo_tensorboard_notpng");
  try {
    TensorBoardWriter(scratch.path().string()).image_png("pictures/y", "not a png", 1);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "image pictures/y: not a PNG image");
  }
}

}  // namespace
}  // namespace zoo
