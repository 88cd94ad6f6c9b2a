#include "io/tensorboard.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "io/atomic_file.h"
#include "io/error.h"
#include "tensorboard_event.pb.h"

namespace zoo {

namespace fs = std::filesystem;
namespace pb = zoo::tensorboard;

namespace {

// The reflected Castagnoli polynomial 0x1EDC6F41, one table entry per byte value.
std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

void put_le(char* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t get_le(const char* in, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// One frame around `data`: what TFRecordWriter writes.
std::string frame(const std::string& data) {
  std::string out(12, '\0');
  put_le(&out[0], data.size(), 8);
  put_le(&out[8], masked_crc32c(out.data(), 8), 4);
  out += data;
  char crc[4];
  put_le(crc, masked_crc32c(data.data(), data.size()), 4);
  out.append(crc, 4);
  return out;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

pb::Event event_at(int64_t step) {
  pb::Event e;
  e.set_wall_time(now_seconds());
  e.set_step(step);
  return e;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string name(buf);
  for (char& c : name)
    if (c == '/' || c == '.') c = '_';  // the name is one path component with dots as separators
  return name;
}

constexpr uint64_t kMaxRecordBytes = uint64_t{256} << 20;

// Drops the records of steps >= first_step from an events file, rewriting it atomically only
// when it has some, and removing it when nothing is left.
void trim_events_file(const std::string& path, int64_t first_step) {
  const auto records = read_tensorboard_records(path);
  std::string kept;
  bool dropped = false;
  for (const auto& r : records) {
    if (r.step >= first_step) {
      dropped = true;
      continue;
    }
    kept += frame(r.event);
  }
  if (kept.empty())
    fs::remove(path);
  else if (dropped || kept.size() != fs::file_size(path))  // also drops a torn last record
    atomic_write_text(path, kept);
}

pb::Summary::Value& add_value(pb::Event& e, const std::string& tag) {
  pb::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  return *v;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::vector<TensorBoardRecord> read_tensorboard_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open");
  std::vector<TensorBoardRecord> records;
  for (uint64_t offset = 0;; ) {
    char header[12];
    if (!in.read(header, sizeof header)) break;  // the end, or a header cut short
    const uint64_t size = get_le(header, 8);
    if (get_le(header + 8, 4) != masked_crc32c(header, 8))
      throw UserError(path + ": record at byte " + std::to_string(offset) + ": bad length checksum");
    if (size > kMaxRecordBytes)
      throw UserError(path + ": record at byte " + std::to_string(offset) + ": " + std::to_string(size) +
                      " bytes, more than a TensorBoard record of ours can have");
    std::string data(size, '\0');
    char crc[4];
    if (!in.read(data.data(), static_cast<std::streamsize>(size)) || !in.read(crc, 4)) break;
    if (get_le(crc, 4) != masked_crc32c(data.data(), data.size()))
      throw UserError(path + ": record at byte " + std::to_string(offset) + ": bad data checksum");
    pb::Event e;
    if (!e.ParseFromString(data))
      throw UserError(path + ": record at byte " + std::to_string(offset) + ": not an Event");
    records.push_back({e.step(), std::move(data)});
    offset += 16 + size;
  }
  return records;
}

std::pair<int, int> png_size(const std::string& png, const std::string& what) {
  static const char kSignature[] = "\x89PNG\r\n\x1a\n";
  // Signature (8), IHDR chunk length (4) and type (4), then width and height, big-endian.
  if (png.size() < 24 || png.compare(0, 8, kSignature, 8) != 0 || png.compare(12, 4, "IHDR") != 0)
    throw UserError(what + ": not a PNG image");
  const auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  const uint32_t width = be32(16), height = be32(20);
  // PNG allows 2^31 - 1; the bound keeps int arithmetic safe.
  if (width == 0 || height == 0 || width > (1u << 20) || height > (1u << 20))
    throw UserError(what + ": PNG of " + std::to_string(width) + " x " + std::to_string(height) + " pixels");
  return {static_cast<int>(width), static_cast<int>(height)};
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir, int64_t first_step) {
  fs::create_directories(dir);
  std::vector<std::string> older;  // listed first: trimming may remove files
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
      older.push_back(entry.path().string());
  for (const auto& path : older) trim_events_file(path, first_step);
  // Seconds first, zero-padded: TensorBoard reads a directory's events files in name order.
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%010lld", static_cast<long long>(now_seconds()));
  const std::string base = dir + "/events.out.tfevents." + stamp + "." + host_name() + "." +
                           std::to_string(::getpid()) + ".";
  int n = 0;
  while (fs::exists(base + std::to_string(n))) ++n;
  path_ = base + std::to_string(n);
  out_.open(path_, std::ios::binary);
  if (!out_) throw UserError(path_ + ": cannot open for writing");
  pb::Event version = event_at(0);
  version.set_file_version("brain.Event:2");
  write_event(version.SerializeAsString());
  if (first_step > 0) {
    pb::Event start = event_at(first_step);
    start.mutable_session_log()->set_status(pb::SessionLog::START);
    start.mutable_session_log()->set_msg("resumed from the checkpoint of step " + std::to_string(first_step - 1));
    write_event(start.SerializeAsString());
  }
}

void TensorBoardWriter::write_event(const std::string& serialized) {
  out_ << frame(serialized);
  // Each event reaches the file at once: TensorBoard shows a run while it trains.
  out_.flush();
  if (!out_) throw UserError(path_ + ": write failed (disk full?)");
}

void TensorBoardWriter::scalar(const std::string& tag, double value, int64_t step) {
  pb::Event e = event_at(step);
  add_value(e, tag).set_simple_value(static_cast<float>(value));
  write_event(e.SerializeAsString());
}

void TensorBoardWriter::image_png(const std::string& tag, const std::string& png, int64_t step) {
  const auto [width, height] = png_size(png, "image " + tag);
  pb::Event e = event_at(step);
  pb::Summary::Image* image = add_value(e, tag).mutable_image();
  image->set_width(width);
  image->set_height(height);
  image->set_colorspace(3);
  image->set_encoded_image_string(png);
  write_event(e.SerializeAsString());
}

void TensorBoardWriter::text(const std::string& tag, const std::string& markdown, int64_t step) {
  pb::Event e = event_at(step);
  pb::Summary::Value& v = add_value(e, tag);
  auto* plugin = v.mutable_metadata()->mutable_plugin_data();
  plugin->set_plugin_name("text");
  plugin->set_content(pb::TextPluginData().SerializeAsString());  // version 0
  pb::TensorProto* tensor = v.mutable_tensor();
  tensor->set_dtype(7);  // DT_STRING
  tensor->mutable_tensor_shape()->add_dim()->set_size(1);
  tensor->add_string_val(markdown);
  write_event(e.SerializeAsString());
}

namespace {
// The hparams plugin's records: its metadata carries the content, the value is an empty float
// tensor (TensorBoard's own NULL_TENSOR).
void write_hparams_value(pb::Event& e, const std::string& tag, const pb::HParamsPluginData& data) {
  pb::Summary::Value& v = add_value(e, tag);
  auto* plugin = v.mutable_metadata()->mutable_plugin_data();
  plugin->set_plugin_name("hparams");
  plugin->set_content(data.SerializeAsString());
  pb::TensorProto* tensor = v.mutable_tensor();
  tensor->set_dtype(1);  // DT_FLOAT
  tensor->mutable_tensor_shape()->add_dim()->set_size(0);
}
}  // namespace

void TensorBoardWriter::hparams_start(const std::map<std::string, HParam>& hparams, int64_t step) {
  pb::HParamsPluginData data;
  pb::SessionStartInfo* start = data.mutable_session_start_info();
  start->set_start_time_secs(now_seconds());
  for (const auto& [name, value] : hparams) {
    google::protobuf::Value& out = (*start->mutable_hparams())[name];
    if (const auto* d = std::get_if<double>(&value)) out.set_number_value(*d);
    else if (const auto* b = std::get_if<bool>(&value)) out.set_bool_value(*b);
    else out.set_string_value(std::get<std::string>(value));
  }
  pb::Event e = event_at(step);
  write_hparams_value(e, "_hparams_/session_start_info", data);
  write_event(e.SerializeAsString());
}

void TensorBoardWriter::hparams_end(bool success, int64_t step) {
  pb::HParamsPluginData data;
  pb::SessionEndInfo* end = data.mutable_session_end_info();
  end->set_status(success ? 1 : 2);  // STATUS_SUCCESS, STATUS_FAILURE
  end->set_end_time_secs(now_seconds());
  pb::Event e = event_at(step);
  write_hparams_value(e, "_hparams_/session_end_info", data);
  write_event(e.SerializeAsString());
}

}  // namespace zoo
