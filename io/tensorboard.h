#pragma once
// TensorBoard event files, written without Python or TensorFlow: TFRecord framing (uint64 length,
// masked CRC-32C of the length, data, masked CRC-32C of the data) around `Event` protocol buffers
// (io/tensorboard_event.proto: only the fields we write, with TensorBoard's field numbers).
// What TensorBoard shows from them: scalars, PNG images, Markdown text, and the hparams plugin's
// session records, so that its HParams tab compares runs by their config and last metrics.
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace zoo {

// CRC-32C (Castagnoli), the checksum of TFRecord framing; `crc` continues an earlier result.
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);
// TFRecord's masked form: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t masked_crc32c(const void* data, size_t size);

// One framed record of an events file: its Event's step and the serialized Event.
struct TensorBoardRecord {
  int64_t step = 0;
  std::string event;
};
// Reads the records of an events file, stopping at the end or at the first incomplete record (a
// writer killed mid-record). A bad checksum or a record over 256 MiB is an error naming the file
// and the record's offset: such a file is not one we wrote.
std::vector<TensorBoardRecord> read_tensorboard_records(const std::string& path);

// Width and height of a PNG from its IHDR chunk; an error naming `what` when `png` is not one.
std::pair<int, int> png_size(const std::string& png, const std::string& what);

class TensorBoardWriter {
 public:
  using HParam = std::variant<double, bool, std::string>;

  // Opens a new events file in `dir`, events.out.tfevents.<seconds>.<host>.<pid>.<n> (never
  // another writer's), whose first event declares file_version "brain.Event:2".
  // first_step is the first step the caller will log. Every older events file of `dir` loses its
  // records of steps >= first_step (each file rewritten atomically, or removed when nothing is
  // left): a new run (0) starts with no old events, a run resumed from its checkpoint keeps
  // those up to the checkpoint and drops what an interrupted process logged after it. A resumed
  // file (first_step > 0) also starts with a SessionLog START at first_step, TensorBoard's own
  // signal to drop them. Either alone leaves no duplicate or out-of-order step; the rewrite also
  // serves readers that ignore SessionLog.
  explicit TensorBoardWriter(const std::string& dir, int64_t first_step = 0);

  void scalar(const std::string& tag, double value, int64_t step);
  // `png`: the bytes of a PNG file, stored as they are.
  void image_png(const std::string& tag, const std::string& png, int64_t step);
  // `markdown`: shown by TensorBoard's text plugin.
  void text(const std::string& tag, const std::string& markdown, int64_t step);
  // The hparams plugin's session start (the run's hyperparameters) and end records.
  void hparams_start(const std::map<std::string, HParam>& hparams, int64_t step);
  void hparams_end(bool success, int64_t step);

  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& serialized);

  std::string path_;
  std::ofstream out_;
};

}  // namespace zoo
