#include "train/metrics_log.h"

#include <algorithm>
#include <filesystem>

#include "io/atomic_file.h"

namespace zoo {

std::vector<Json> read_metrics_log(const std::string& path) {
  std::vector<Json> records;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      records.push_back(Json::parse(line));
    } catch (const Json::parse_error&) {
      // A line cut short by a kill: everything after it is unreliable.
      break;
    }
  }
  return records;
}

MetricsLog::MetricsLog(const std::string& path, int64_t keep_until_step) {
  if (std::filesystem::exists(path)) {
    std::string kept;
    for (const auto& r : read_metrics_log(path))
      if (r.value("step", int64_t{0}) <= keep_until_step) {
        kept += r.dump() + "\n";
        if (r.contains("elapsed_s") && r["elapsed_s"].is_number())
          elapsed_before_ = std::max(elapsed_before_, r["elapsed_s"].get<double>());
      }
    atomic_write_text(path, kept);
  }
  out_.open(path, std::ios::app);
  if (!out_) throw UserError(path + ": cannot open for writing");
}

void MetricsLog::write(const Json& record) {
  out_ << record.dump() << '\n';
  out_.flush();
}

}  // namespace zoo
