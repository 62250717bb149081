#include "train/report/training_log.h"

#include <string>
#include <string_view>

#include "core/error.h"
#include "io/files.h"

namespace gler::train {

void write_training_log(const std::filesystem::path& jsonl, const std::vector<EpochRecord>& records) {
  std::string text;
  for (std::size_t i = 0; i < records.size(); ++i) {
    GLER_CHECK(i == 0 || records[i].epoch > records[i - 1].epoch,
               "training log " << jsonl.string() << ": epoch " << records[i].epoch << " follows epoch "
                               << records[i - 1].epoch);
    text += json::dump(to_json(records[i]));
    text += '\n';
  }
  io::write_text_atomic(jsonl, text);
}

std::vector<EpochRecord> read_training_log(const std::filesystem::path& jsonl) {
  const std::vector<std::uint8_t> bytes = io::read_bytes(jsonl);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::vector<EpochRecord> records;
  std::size_t start = 0;
  for (int line = 1; start < text.size(); ++line) {  // the last newline ends a line, not starts one
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    try {
      records.push_back(epoch_record_from_json(json::parse(text.substr(start, end - start))));
      GLER_CHECK(records.size() == 1 || records.back().epoch > records[records.size() - 2].epoch,
                 "epoch " << records.back().epoch << " follows epoch " << records[records.size() - 2].epoch);
    } catch (const Error& e) {
      GLER_FAIL("training log " << jsonl.string() << " line " << line << ": " << e.what());
    }
    start = end + 1;
  }
  return records;
}

}  // namespace gler::train
